package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/domain"
)

// send makes one request with a raw body and extra headers.
func send(t *testing.T, c *http.Client, method, target, contentType, body string, header map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, target, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(b)
}

var globex = domain.Organization{ExternalID: "org-globex", Alias: "globex", TenantID: "tenant-globex"}

// TestCrossOriginUnsafeRequestsChangeNothing is issue 9's Origin acceptance,
// on PostgreSQL and SQLite: the Auth.js POSTs, the organization switches
// and authbff's other unsafe routes, sent with a valid CSRF token or header
// but a foreign Origin or Sec-Fetch-Site: cross-site (or same-site), are
// refused with 403, and the database shows nothing changed: no login flow
// row, the session row kept, the organization unchanged. The same requests
// from the app's origin then succeed, so the refusals are the guard's. The
// IdP's form_post callback (cross-site by nature) and the back-channel
// logout are not refused.
func TestCrossOriginUnsafeRequestsChangeNothing(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, st edgeStores) {
		up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }))
		defer up.Close()
		a, _ := newEdgeApp(t, st, up.URL)
		id := alice
		id.Organizations = append([]domain.Organization{}, alice.Organizations[0], globex)
		c := signIn(t, a, id)
		tok := csrfToken(t, c, a)
		flows := func() int { return st.count(t, "SELECT count(*) FROM login_flows") }
		sessions := func() int { return st.count(t, "SELECT count(*) FROM sessions") }
		orgOf := func() string {
			var org string
			require.NoError(t, st.db.DB.QueryRowContext(t.Context(), `SELECT coalesce(o.external_id, '')
				FROM sessions s LEFT JOIN organizations o ON o.id = s.active_organization_id`).Scan(&org))
			return org
		}
		require.Equal(t, 1, sessions())
		startFlows, startOrg := flows(), orgOf()
		require.Equal(t, "org-acme", startOrg)

		form := func(v url.Values) string { v.Set("csrfToken", tok); return v.Encode() }
		jsonBody := func(v map[string]any) string { v["csrfToken"] = tok; b, _ := json.Marshal(v); return string(b) }
		type route struct {
			name, method, path, ct, body string
			authjs                       bool
		}
		routes := []route{
			{"signin", "POST", "/api/auth/signin/keycloak", "application/x-www-form-urlencoded", form(url.Values{"callbackUrl": {a.url("/x")}}), true},
			{"signout", "POST", "/api/auth/signout", "application/x-www-form-urlencoded", form(url.Values{}), true},
			{"session update", "POST", "/api/auth/session", "application/json", jsonBody(map[string]any{"data": map[string]string{"organizationId": "org-globex"}}), true},
			{"organization", "POST", "/api/auth/organization", "application/json", `{"organizationId":"org-globex"}`, false},
			{"revoke others", "DELETE", "/api/auth/sessions", "", "", false},
			{"admin revoke", "DELETE", "/api/auth/admin/users/alice@example.com/sessions", "", "", false},
			{"cleanup", "POST", "/api/auth/cleanup", "", "", false},
			{"proxy", "POST", "/api/proxy/orders", "application/json", `{}`, false},
		}
		hostile := []map[string]string{
			{"Origin": "https://evil.example"},
			{"Sec-Fetch-Site": "cross-site"},
			{"Sec-Fetch-Site": "same-site"},
			{"Origin": "null"},
			{"Origin": "https://evil.example", "Sec-Fetch-Site": "same-origin"},
			{"Origin": a.srv.URL + ".evil.example"},
		}
		refusals := 0
		for _, r := range routes {
			for _, h := range hostile {
				hdr := map[string]string{"X-CSRF": "1", "X-Auth-Return-Redirect": "1"}
				for k, v := range h {
					hdr[k] = v
				}
				status, body := send(t, c, r.method, a.url(r.path), r.ct, r.body, hdr)
				require.Equal(t, http.StatusForbidden, status, "%s with %v: %s", r.name, h, body)
				switch {
				case r.path == "/api/auth/session":
					require.Equal(t, "null", body)
				case r.authjs:
					require.Contains(t, body, `"url":"`+a.url("/api/auth/error?error=AccessDenied")+`"`, r.name)
				default:
					require.Contains(t, body, `"code":"cross_origin"`, r.name)
				}
				require.Equal(t, startFlows, flows(), "%s with %v started a login flow", r.name, h)
				require.Equal(t, 1, sessions(), "%s with %v ended the session", r.name, h)
				require.Equal(t, startOrg, orgOf(), "%s with %v switched the organization", r.name, h)
				refusals++
			}
		}
		// The session is still usable from the app's origin.
		status, body := send(t, c, "GET", a.url("/api/auth/session"), "", "", nil)
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, body, `"email":"alice@example.com"`)
		t.Logf("%d routes × %d hostile header sets: %d refusals (403), login flows %d→%d, sessions 1→%d, organization %s→%s",
			len(routes), len(hostile), refusals, startFlows, flows(), sessions(), startOrg, orgOf())

		// The same requests from the app's origin do act.
		same := map[string]string{"Origin": a.srv.URL, "Sec-Fetch-Site": "same-origin", "X-CSRF": "1", "X-Auth-Return-Redirect": "1"}
		status, body = send(t, c, "POST", a.url("/api/auth/session"), "application/json",
			jsonBody(map[string]any{"data": map[string]string{"organizationId": "org-globex"}}), same)
		require.Equal(t, http.StatusOK, status, body)
		require.Equal(t, "org-globex", orgOf())
		status, body = send(t, c, "POST", a.url("/api/auth/signin/keycloak"), "application/x-www-form-urlencoded", form(url.Values{}), same)
		require.Equal(t, http.StatusOK, status, body)
		require.Equal(t, startFlows+1, flows())

		// The IdP's form_post callback is a cross-site POST and still signs in.
		b := browser(t)
		btok := csrfToken(t, b, a)
		resp := postForm(t, b, a.url("/api/auth/signin/keycloak"), url.Values{"csrfToken": {btok}, "callbackUrl": {a.url("/dash")}}, true)
		resp.Body.Close()
		state := a.idp.LastState()
		code := a.idp.Authorize(state, id)
		status, body = send(t, b, "POST", a.url("/api/auth/callback/keycloak"), "application/x-www-form-urlencoded",
			url.Values{"code": {code}, "state": {state}, "iss": {a.idp.Issuer()}}.Encode(),
			map[string]string{"Origin": "https://kc.example.com", "Sec-Fetch-Site": "cross-site"})
		require.Equal(t, http.StatusFound, status, body)
		require.Equal(t, 2, sessions(), "the form_post callback created the session")

		// The back-channel logout (no cookies) is judged by its token, not refused as cross-origin.
		status, body = send(t, http.DefaultClient, "POST", a.url("/api/auth/backchannel-logout"), "application/x-www-form-urlencoded",
			"logout_token=x", map[string]string{"Origin": "https://kc.example.com"})
		require.NotEqual(t, http.StatusForbidden, status, body)
		require.NotContains(t, body, "cross_origin")

		// Neither header: the CSRF token or header is still required.
		status, _ = send(t, c, "POST", a.url("/api/auth/signout"), "application/x-www-form-urlencoded", "csrfToken=wrong", map[string]string{"X-Auth-Return-Redirect": "1"})
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, 2, sessions(), "a sign-out without the token is refused (MissingCSRF)")
		status, _ = send(t, c, "DELETE", a.url("/api/auth/sessions"), "", "", nil)
		require.Equal(t, http.StatusForbidden, status, "no X-CSRF header")
	})
}
