package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/domain"
)

func do(t *testing.T, c *http.Client, method, url string, header map[string]string) (int, map[string]any, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	var body map[string]any
	if resp.StatusCode != http.StatusNoContent && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		var v any
		readJSON(t, resp, &v)
		body, _ = v.(map[string]any)
	} else {
		resp.Body.Close()
	}
	return resp.StatusCode, body, resp.Header
}

var csrfHeader = map[string]string{"X-CSRF": "1"}

func TestOwnSessionsListAndRevoke(t *testing.T) {
	a := newTestApp(t)
	laptop := signIn(t, a, alice)
	phone := signIn(t, a, alice)
	bob := alice
	bob.Subject, bob.Email = "sub-bob", "bob@example.com"
	bobBrowser := signIn(t, a, bob)

	status, body, h := do(t, laptop, "GET", a.url("/api/auth/sessions"), nil)
	require.Equal(t, 200, status)
	require.Equal(t, "private, no-cache, no-store", h.Get("Cache-Control"))
	list := body["sessions"].([]any)
	require.Len(t, list, 2)
	var current, other string
	for _, s := range list {
		m := s.(map[string]any)
		require.NotContains(t, m, "tokenHash")
		if m["current"].(bool) {
			current = m["id"].(string)
		} else {
			other = m["id"].(string)
		}
	}
	require.NotEmpty(t, current)
	require.NotEmpty(t, other)

	// bob cannot see or revoke alice's sessions: 404, like an unknown id.
	status, body, _ = do(t, bobBrowser, "DELETE", a.url("/api/auth/sessions/"+other), csrfHeader)
	require.Equal(t, 404, status)
	require.Equal(t, "not_found", body["error"].(map[string]any)["code"])

	// A DELETE without the CSRF header is refused.
	status, body, _ = do(t, laptop, "DELETE", a.url("/api/auth/sessions/"+other), nil)
	require.Equal(t, 403, status)
	require.Equal(t, "csrf_required", body["error"].(map[string]any)["code"])

	status, _, _ = do(t, laptop, "DELETE", a.url("/api/auth/sessions/"+other), csrfHeader)
	require.Equal(t, 204, status)
	status, _, _ = do(t, phone, "GET", a.url("/api/auth/sessions"), nil)
	require.Equal(t, 401, status, "the phone's session is gone")

	status, body, _ = do(t, laptop, "DELETE", a.url("/api/auth/sessions"), csrfHeader)
	require.Equal(t, 200, status)
	require.EqualValues(t, 0, body["revoked"])
}

func TestAdminRoutesNeedTheAdminRole(t *testing.T) {
	a := newTestApp(t)
	admin := signIn(t, a, alice) // alice has the realm role admin
	plain := alice
	plain.Subject, plain.Email, plain.Roles = "sub-carol", "carol@example.com", []domain.Role{{Name: "user", Source: "realm"}}
	carol := signIn(t, a, plain)
	signIn(t, a, plain) // carol has two sessions

	for _, r := range []struct{ method, path string }{
		{"GET", "/api/auth/cleanup"}, {"POST", "/api/auth/cleanup"},
		{"GET", "/api/auth/admin/users/alice@example.com/sessions"}, {"DELETE", "/api/auth/admin/users/alice@example.com/sessions"},
	} {
		status, body, _ := do(t, carol, r.method, a.url(r.path), csrfHeader)
		require.Equal(t, 403, status, "%s %s", r.method, r.path)
		require.Equal(t, "forbidden", body["error"].(map[string]any)["code"])
	}

	status, body, _ := do(t, admin, "GET", a.url("/api/auth/admin/users/carol@example.com/sessions"), nil)
	require.Equal(t, 200, status)
	require.Len(t, body["sessions"].([]any), 2)

	status, body, _ = do(t, admin, "GET", a.url("/api/auth/cleanup"), nil)
	require.Equal(t, 200, status)
	require.EqualValues(t, 3, body["total"])
	require.EqualValues(t, 3, body["active"])

	status, body, _ = do(t, admin, "DELETE", a.url("/api/auth/admin/users/carol@example.com/sessions"), csrfHeader)
	require.Equal(t, 200, status)
	require.EqualValues(t, 2, body["revoked"])
	status, _, _ = do(t, carol, "GET", a.url("/api/auth/sessions"), nil)
	require.Equal(t, 401, status)

	status, _, _ = do(t, admin, "GET", a.url("/api/auth/admin/users/nobody@example.com/sessions"), nil)
	require.Equal(t, 404, status)

	a.now = a.now.Add(9 * time.Hour) // every session is now expired
	status, _, _ = do(t, admin, "POST", a.url("/api/auth/cleanup"), csrfHeader)
	require.Equal(t, 401, status, "the admin's own session expired too")
}

func TestTokenEndpoint(t *testing.T) {
	a := newTestApp(t)
	a.idp.Tokens.AccessTokenExpiresAt = a.now.Add(5 * time.Minute)
	c := signIn(t, a, alice)

	status, body, _ := do(t, c, "GET", a.url("/api/auth/token"), nil)
	require.Equal(t, 403, status, "the custom header (or same origin) is required")
	require.Equal(t, "csrf_required", body["error"].(map[string]any)["code"])

	status, body, h := do(t, c, "GET", a.url("/api/auth/token"), csrfHeader)
	require.Equal(t, 200, status)
	require.Equal(t, "access-1", body["accessToken"])
	require.Equal(t, "Bearer", body["tokenType"])
	require.NotContains(t, body, "refreshToken")
	require.NotContains(t, body, "idToken")
	require.Equal(t, "no-store", h.Get("Cache-Control"))

	status, _, _ = do(t, c, "GET", a.url("/api/auth/token"), map[string]string{"Origin": a.srv.URL})
	require.Equal(t, 200, status, "a same-origin request needs no header")
	status, _, _ = do(t, c, "GET", a.url("/api/auth/token"), map[string]string{"Origin": "https://evil.example.com"})
	require.Equal(t, 403, status)

	limited := 0
	for i := 0; i < 30; i++ {
		if s, _, _ := do(t, c, "GET", a.url("/api/auth/token"), csrfHeader); s == 429 {
			limited++
		}
	}
	require.Positive(t, limited, "more than 10 calls a second per session are refused")

	status, _, _ = do(t, browser(t), "GET", a.url("/api/auth/token"), csrfHeader)
	require.Equal(t, 401, status)
}

// TestSecurityHeadersOnEveryRoute: every answer of authbff itself carries
// nosniff, frame denial and no-referrer (SECURITY A.11.1).
func TestSecurityHeadersOnEveryRoute(t *testing.T) {
	a := newTestApp(t)
	c := browser(t)
	for _, p := range []string{"/healthz", "/readyz", "/api/auth/session", "/api/auth/csrf", "/api/auth/providers",
		"/api/auth/signin", "/api/auth/error?error=Configuration", "/api/auth/sessions", "/api/auth/nope", "/nope", "/openapi.json"} {
		_, _, h := do(t, c, "GET", a.url(p), nil)
		require.Equal(t, "nosniff", h.Get("X-Content-Type-Options"), p)
		require.Equal(t, "DENY", h.Get("X-Frame-Options"), p)
		require.Equal(t, "no-referrer", h.Get("Referrer-Policy"), p)
		require.Contains(t, h.Get("Content-Security-Policy"), "frame-ancestors 'none'", p)
	}
	status, _, _ := do(t, c, "TRACE", a.url("/api/auth/session"), nil)
	require.Equal(t, 400, status)
}
