package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/adapters/httpapi"
	"github.com/authbff/authbff/application"
	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
	"github.com/authbff/authbff/test/fake"
)

// testApp is the HTTP adapter over the real use cases on fakes, served on a
// real loopback listener. AUTH_URL is the test server's own URL.
type testApp struct {
	srv      *httptest.Server
	idp      *fake.IdentityProvider
	sessions *fake.SessionStore
	now      time.Time
}

func newTestApp(t testing.TB) *testApp {
	t.Helper()
	return newTestAppWith(t, func(*httpapi.Config) {})
}

// newTestAppWith is newTestApp with a changed configuration.
func newTestAppWith(t testing.TB, configure func(*httpapi.Config)) *testApp {
	t.Helper()
	app := &testApp{now: time.Now().UTC()}
	clock := func() time.Time { return app.now }
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	app.idp = fake.NewIdentityProvider("https://kc.example.com/realms/crm")
	flows, users := fake.NewLoginFlowStore(), fake.NewUserStore()
	sessions := fake.NewSessionStore(users)
	app.sessions = sessions
	policy := domain.DefaultSessionPolicy()
	h := httpapi.Handlers{
		Provider: httpapi.ProviderInfo{ID: "keycloak", Name: "Keycloak",
			AuthorizationURL: app.idp.BrowserEndpoints().Authorization, EndSessionURL: app.idp.BrowserEndpoints().EndSession},
		Readiness:          application.NewCheckReadinessHandler(nil, time.Second),
		StartSignIn:        application.NewStartSignInHandler(app.idp, flows, clock),
		CompleteSignIn:     application.NewCompleteSignInHandler(app.idp, flows, users, sessions, fake.TokenCipher{}, policy, ports.NopObserver{}, clock, log, nil),
		GetSession:         application.NewGetSessionHandler(sessions, policy, clock),
		SignOut:            application.NewSignOutHandler(app.idp, sessions, fake.TokenCipher{}, ports.NopObserver{}, log),
		SwitchOrganization: application.NewSwitchOrganizationHandler(users, sessions, clock, log),
		ListSessions:       application.NewListSessionsHandler(sessions, clock),
		RevokeSession:      application.NewRevokeSessionHandler(sessions, ports.NopObserver{}, log),
		UserSessions:       application.NewUserSessionsHandler(users, sessions, ports.NopObserver{}, clock, log),
		SessionStats:       application.NewSessionStatsHandler(fake.NewSessionMaintenance(sessions), clock),
		Cleanup: application.NewCleanupSessionsHandler(fake.NewSessionMaintenance(sessions), flows, fake.NewVerificationTokenStore(),
			ports.NopObserver{}, clock, log),
	}
	h.GetAccessToken = application.NewGetAccessTokenHandler(app.idp, sessions, users, fake.TokenCipher{}, ports.NopObserver{}, clock, log, nil)
	h.AuthorizeUpstream = application.NewAuthorizeUpstreamHandler(h.GetAccessToken, nil)
	// The public URL must be known before the server starts: listen first.
	app.srv = httptest.NewUnstartedServer(nil)
	pub, _ := url.Parse("http://" + app.srv.Listener.Addr().String() + "/api/auth")
	cfg := httpapi.Config{PublicURL: pub, Secrets: [][]byte{[]byte("test-secret")}}
	configure(&cfg)
	engine, err := httpapi.NewRouter(cfg, h, log)
	require.NoError(t, err)
	app.srv.Config.Handler = engine
	app.srv.Start()
	t.Cleanup(app.srv.Close)
	return app
}

func (a *testApp) url(p string) string { return a.srv.URL + p }

// browser is an HTTP client with a cookie jar that does not follow redirects.
func browser(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func readJSON(t *testing.T, resp *http.Response, v any) {
	t.Helper()
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	require.NoError(t, json.Unmarshal(b, v), string(b))
}

func csrfToken(t *testing.T, c *http.Client, a *testApp) string {
	resp, err := c.Get(a.url("/api/auth/csrf"))
	require.NoError(t, err)
	var body map[string]string
	readJSON(t, resp, &body)
	require.Len(t, body["csrfToken"], 64)
	return body["csrfToken"]
}

func postForm(t *testing.T, c *http.Client, target string, form url.Values, returnRedirect bool) *http.Response {
	req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if returnRedirect {
		req.Header.Set("X-Auth-Return-Redirect", "1")
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	return resp
}

var alice = ports.Identity{Subject: "sub-alice", Name: "Alice", Email: "alice@example.com",
	Roles:         []domain.Role{{Name: "admin", Source: "realm"}},
	Organizations: []domain.Organization{{ExternalID: "org-acme", Alias: "acme", TenantID: "tenant-acme"}}}

// signIn runs the whole browser flow and returns the client holding the session.
func signIn(t *testing.T, a *testApp, id ports.Identity) *http.Client {
	t.Helper()
	c := browser(t)
	tok := csrfToken(t, c, a)
	resp := postForm(t, c, a.url("/api/auth/signin/keycloak?"), url.Values{"csrfToken": {tok}, "callbackUrl": {a.url("/dashboard")}}, true)
	var body map[string]string
	readJSON(t, resp, &body)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.True(t, strings.HasPrefix(body["url"], "https://kc.example.com/realms/crm/auth?state="), body["url"])
	require.Equal(t, body["url"], resp.Header.Get("Location"), "a {url} answer keeps the redirect's Location, as Auth.js's")
	state := a.idp.LastState()
	code := a.idp.Authorize(state, id)
	cb, err := c.Get(a.url("/api/auth/callback/keycloak?" + url.Values{"code": {code}, "state": {state}, "iss": {a.idp.Issuer()}}.Encode()))
	require.NoError(t, err)
	cb.Body.Close()
	require.Equal(t, http.StatusFound, cb.StatusCode)
	require.Equal(t, a.url("/dashboard"), cb.Header.Get("Location"))
	return c
}

func TestSessionWithoutCookieIsNull(t *testing.T) {
	a := newTestApp(t)
	resp, err := http.Get(a.url("/api/auth/session"))
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "null", string(b))
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	require.Equal(t, "private, no-cache, no-store", resp.Header.Get("Cache-Control"))
	require.Equal(t, "0", resp.Header.Get("Expires"))
	require.Equal(t, "no-cache", resp.Header.Get("Pragma"))
	cookies := strings.Join(resp.Header.Values("Set-Cookie"), "\n")
	require.Contains(t, cookies, "authjs.csrf-token=")
	require.Contains(t, cookies, "%7C", "the CSRF cookie is URL-encoded like Auth.js's")
	require.Contains(t, cookies, "authjs.callback-url="+url.QueryEscape(a.srv.URL))
}

func TestFullSignInSessionSignOut(t *testing.T) {
	a := newTestApp(t)
	c := signIn(t, a, alice)

	resp, err := c.Get(a.url("/api/auth/session"))
	require.NoError(t, err)
	setCookie := resp.Header.Get("Set-Cookie")
	var s map[string]any
	readJSON(t, resp, &s)
	user := s["user"].(map[string]any)
	require.Equal(t, "alice@example.com", user["email"])
	require.Nil(t, user["image"], "missing fields stay null")
	require.Equal(t, []any{"admin"}, user["roles"])
	require.Equal(t, "tenant-acme", s["activeOrganization"].(map[string]any)["tenantId"])
	_, err = time.Parse(time.RFC3339, s["expires"].(string))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(setCookie, "authjs.session-token="), setCookie)
	require.Contains(t, setCookie, "HttpOnly")
	require.Contains(t, setCookie, "SameSite=Lax")
	require.Contains(t, setCookie, "Expires=")
	require.NotContains(t, setCookie, "Max-Age", "Auth.js session cookies carry Expires only")
	require.NotContains(t, setCookie, "Domain")
	require.NotContains(t, setCookie, "Secure", "plain http has no Secure")
	for _, k := range []string{"accessToken", "refreshToken", "idToken", "access_token"} {
		require.NotContains(t, s, k, "tokens never appear in the session JSON")
	}

	tok := csrfToken(t, c, a)
	out := postForm(t, c, a.url("/api/auth/signout"), url.Values{"csrfToken": {tok}, "callbackUrl": {a.url("/bye")}}, true)
	var body map[string]string
	readJSON(t, out, &body)
	require.Equal(t, http.StatusOK, out.StatusCode)
	require.True(t, strings.HasPrefix(body["url"], "https://kc.example.com/realms/crm/logout?"), body["url"])
	require.Contains(t, body["url"], "id_token_hint=id-1")
	require.Empty(t, out.Header.Get("Location"), "the ID token is in the body only, not also in a header proxies log")
	require.Contains(t, strings.Join(out.Header.Values("Set-Cookie"), "\n"), "authjs.session-token=; Path=/; Max-Age=0")

	resp, _ = c.Get(a.url("/api/auth/session"))
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, "null", string(b))
}

// TestSignOutThatCannotDeleteTheSessionSaysSo: when the session row cannot
// be deleted, sign-out does not pretend: no cookie is cleared, the answer is
// an error (503 with Retry-After for an outage, 500 for anything else, each
// sending the browser to the error page), and the session still works, so
// the user knows to try again. Once the database deletes again, it signs out.
func TestSignOutThatCannotDeleteTheSessionSaysSo(t *testing.T) {
	a := newTestApp(t)
	c := signIn(t, a, alice)
	signOut := func() (*http.Response, map[string]string) {
		out := postForm(t, c, a.url("/api/auth/signout"), url.Values{"csrfToken": {csrfToken(t, c, a)},
			"callbackUrl": {a.url("/bye")}}, true)
		var body map[string]string
		readJSON(t, out, &body)
		return out, body
	}
	session := func() string {
		resp, err := c.Get(a.url("/api/auth/session"))
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return string(b)
	}
	for _, tc := range []struct {
		err    error
		status int
		page   string
	}{
		{fmt.Errorf("delete session: %w: database: connection refused", domain.ErrUnavailable), http.StatusServiceUnavailable, "Unavailable"},
		{errors.New("database: could not write block (SQLSTATE 58030)"), http.StatusInternalServerError, "Configuration"},
	} {
		a.sessions.FailDeletes(tc.err)
		out, body := signOut()
		require.Equal(t, tc.status, out.StatusCode, tc.err.Error())
		require.Equal(t, a.url("/api/auth/error?error="+tc.page), body["url"])
		require.NotContains(t, strings.Join(out.Header.Values("Set-Cookie"), "\n"), "authjs.session-token=",
			"the session cookie is kept, so a retry can still end the session")
		require.NotEqual(t, "null", session(), "the session was not ended, and authbff does not say it was")
	}
	a.sessions.FailDeletes(nil)
	out, _ := signOut()
	require.Equal(t, http.StatusOK, out.StatusCode)
	require.Equal(t, "null", session())
}

func TestSignInRefusesMissingCSRF(t *testing.T) {
	a := newTestApp(t)
	c := browser(t)
	csrfToken(t, c, a)
	resp := postForm(t, c, a.url("/api/auth/signin/keycloak"), url.Values{"csrfToken": {strings.Repeat("0", 64)}}, true)
	var body map[string]string
	readJSON(t, resp, &body)
	require.Equal(t, a.url("/api/auth/signin?error=MissingCSRF"), body["url"])
	require.Empty(t, resp.Header.Values("Set-Cookie"), "error answers carry no cookies")

	// Without the header: a 302.
	resp = postForm(t, c, a.url("/api/auth/signin/keycloak"), url.Values{}, false)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	require.Equal(t, a.url("/api/auth/signin?error=MissingCSRF"), resp.Header.Get("Location"))
}

func TestForgedCSRFCookieIsReplaced(t *testing.T) {
	a := newTestApp(t)
	req, _ := http.NewRequest(http.MethodGet, a.url("/api/auth/csrf"), nil)
	planted := strings.Repeat("a", 64)
	req.Header.Set("Cookie", "authjs.csrf-token="+planted+"%7C"+strings.Repeat("b", 64))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	var body map[string]string
	readJSON(t, resp, &body)
	require.NotEqual(t, planted, body["csrfToken"], "a cookie with a bad hash is not trusted")
}

func TestCallbackRefusals(t *testing.T) {
	a := newTestApp(t)
	c := browser(t)
	tok := csrfToken(t, c, a)
	resp := postForm(t, c, a.url("/api/auth/signin/keycloak"), url.Values{"csrfToken": {tok}}, true)
	resp.Body.Close()
	state := a.idp.LastState()
	code := a.idp.Authorize(state, alice)

	get := func(c *http.Client, q url.Values) string {
		r, err := c.Get(a.url("/api/auth/callback/keycloak?" + q.Encode()))
		require.NoError(t, err)
		r.Body.Close()
		require.Equal(t, http.StatusFound, r.StatusCode)
		return r.Header.Get("Location")
	}
	// Another browser (no binding cookie) cannot use this state.
	require.Equal(t, a.url("/api/auth/error?error=Configuration"), get(browser(t), url.Values{"code": {code}, "state": {state}, "iss": {a.idp.Issuer()}}))
	// A tampered state.
	require.Equal(t, a.url("/api/auth/error?error=Configuration"), get(c, url.Values{"code": {code}, "state": {state + "x"}, "iss": {a.idp.Issuer()}}))
	// The IdP reported an error.
	tok = csrfToken(t, c, a)
	postForm(t, c, a.url("/api/auth/signin/keycloak"), url.Values{"csrfToken": {tok}}, true).Body.Close()
	require.Equal(t, a.url("/api/auth/signin?error=OAuthCallbackError"), get(c, url.Values{"error": {"access_denied"}, "state": {a.idp.LastState()}, "iss": {a.idp.Issuer()}}))
	// A different issuer (mix-up).
	postForm(t, c, a.url("/api/auth/signin/keycloak"), url.Values{"csrfToken": {tok}}, true).Body.Close()
	st := a.idp.LastState()
	require.Equal(t, a.url("/api/auth/signin?error=OAuthCallbackError"), get(c, url.Values{"code": {a.idp.Authorize(st, alice)}, "state": {st}, "iss": {"https://evil.example.com"}}))
}

func TestCallbackURLStaysOnOrigin(t *testing.T) {
	a := newTestApp(t)
	for _, cb := range []string{"https://evil.example.com/x", "//evil.example.com", "/\\evil.example.com", "http://user@" + a.srv.Listener.Addr().String() + "/"} {
		c := browser(t)
		tok := csrfToken(t, c, a)
		postForm(t, c, a.url("/api/auth/signin/keycloak"), url.Values{"csrfToken": {tok}, "callbackUrl": {cb}}, true).Body.Close()
		st := a.idp.LastState()
		r, err := c.Get(a.url("/api/auth/callback/keycloak?" + url.Values{"code": {a.idp.Authorize(st, alice)}, "state": {st}, "iss": {a.idp.Issuer()}}.Encode()))
		require.NoError(t, err)
		r.Body.Close()
		require.Equal(t, a.srv.URL, r.Header.Get("Location"), "callbackUrl %q must fall back to the origin", cb)
	}
	c := browser(t)
	tok := csrfToken(t, c, a)
	resp := postForm(t, c, a.url("/api/auth/signin/keycloak"), url.Values{"csrfToken": {tok}, "callbackUrl": {"javascript:alert(1)"}}, true)
	var body map[string]string
	readJSON(t, resp, &body)
	require.Equal(t, a.url("/api/auth/error?error=Configuration"), body["url"])
}

func TestAuthJSRouting(t *testing.T) {
	a := newTestApp(t)
	cases := []struct {
		method, path string
		status       int
		location     string
	}{
		{"GET", "/api/auth/unknown", 400, ""},
		{"PUT", "/api/auth/session", 400, ""},
		{"GET", "/api/auth/signin/keycloak/extra", 400, ""},
		{"POST", "/api/auth/providers", 302, "/api/auth/error?error=Configuration"},
		{"GET", "/api/auth/signin/keycloak", 302, "/api/auth/error?error=Configuration"},
	}
	c := browser(t)
	for _, tc := range cases {
		req, _ := http.NewRequest(tc.method, a.url(tc.path), nil)
		resp, err := c.Do(req)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, tc.status, resp.StatusCode, "%s %s", tc.method, tc.path)
		if tc.status == 400 {
			require.Equal(t, `"Bad request."`, string(b))
		} else {
			require.Equal(t, a.url(tc.location), resp.Header.Get("Location"))
		}
	}
}

func TestProviders(t *testing.T) {
	a := newTestApp(t)
	resp, err := http.Get(a.url("/api/auth/providers"))
	require.NoError(t, err)
	require.Empty(t, resp.Header.Values("Set-Cookie"))
	var body map[string]map[string]string
	readJSON(t, resp, &body)
	require.Equal(t, map[string]string{"id": "keycloak", "name": "Keycloak", "type": "oidc",
		"signinUrl": a.url("/api/auth/signin/keycloak"), "callbackUrl": a.url("/api/auth/callback/keycloak")}, body["keycloak"])
}

func TestUpdateSessionSwitchesOrganization(t *testing.T) {
	a := newTestApp(t)
	bob := alice
	bob.Subject, bob.Email = "sub-bob", "bob@example.com"
	bob.Organizations = []domain.Organization{{ExternalID: "org-acme", Alias: "acme"}, {ExternalID: "org-globex", Alias: "globex"}}
	c := signIn(t, a, bob)
	tok := csrfToken(t, c, a)

	bad, _ := http.NewRequest(http.MethodPost, a.url("/api/auth/session"), strings.NewReader(`{"csrfToken":"nope","data":{}}`))
	bad.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(bad)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, 400, resp.StatusCode)
	require.Equal(t, "null", string(b))

	req, _ := http.NewRequest(http.MethodPost, a.url("/api/auth/session"), strings.NewReader(`{"csrfToken":"`+tok+`","data":{"organizationId":"org-globex"}}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err = c.Do(req)
	require.NoError(t, err)
	var s map[string]any
	readJSON(t, resp, &s)
	require.Equal(t, "globex", s["activeOrganization"].(map[string]any)["alias"])
	require.Empty(t, resp.Header.Get("Cache-Control"), "POST /session carries no cache headers")

	req, _ = http.NewRequest(http.MethodPost, a.url("/api/auth/session"), strings.NewReader(`{"csrfToken":"`+tok+`","data":{"organizationId":"initech"}}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err = c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
}

var _ = context.Background

// TestOrganizationWithoutIdPIDIsNullAndSwitchedToByAlias: an organization
// whose Keycloak id is unknown shows `"id": null` (never authbff's own key)
// and is switched to by its alias.
func TestOrganizationWithoutIdPIDIsNullAndSwitchedToByAlias(t *testing.T) {
	a := newTestApp(t)
	carol := alice
	carol.Subject, carol.Email = "sub-carol", "carol@example.com"
	carol.Organizations = []domain.Organization{{Alias: "acme"}, {ExternalID: "org-globex", Alias: "globex"}}
	c := signIn(t, a, carol)

	resp, err := c.Get(a.url("/api/auth/session"))
	require.NoError(t, err)
	var s map[string]any
	readJSON(t, resp, &s)
	orgs := s["organizations"].([]any)
	require.Len(t, orgs, 2)
	acme := orgs[0].(map[string]any)
	require.Equal(t, "acme", acme["alias"])
	require.Contains(t, acme, "id")
	require.Nil(t, acme["id"], "null, not an id Keycloak does not know")
	require.Equal(t, "org-globex", orgs[1].(map[string]any)["id"])

	req, _ := http.NewRequest(http.MethodPost, a.url("/api/auth/organization"), strings.NewReader(`{"organizationId":"globex"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF", "1")
	resp, err = c.Do(req)
	require.NoError(t, err)
	readJSON(t, resp, &s)
	require.Equal(t, "globex", s["activeOrganization"].(map[string]any)["alias"])

	req, _ = http.NewRequest(http.MethodPost, a.url("/api/auth/organization"), strings.NewReader(`{"organizationId":"acme"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF", "1")
	resp, err = c.Do(req)
	require.NoError(t, err)
	readJSON(t, resp, &s)
	active := s["activeOrganization"].(map[string]any)
	require.Equal(t, "acme", active["alias"])
	require.Nil(t, active["id"])
}
