package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/authbff/authbff/application"
	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/test/authjsclient"
	"github.com/authbff/authbff/test/fakeop"
	"github.com/authbff/authbff/test/testenv"
)

// TestSecretsNeverLeak is docs/security.md R14. One whole run, with debug
// logging, against test/fakeop (which reports every secret it issued or
// was shown) and a recording backend API: sign-in with code and PKCE,
// GET /api/auth/session, GET /api/auth/token, a proxied call, a refresh,
// the sessions list, revoking another browser's session, a back-channel
// logout and an RP-initiated sign-out. Every request and answer the
// browsers, the IdP's back-channel call and the backend API see is
// recorded whole (URL, every header, body), and so are the logs. Then
// each secret value must occur only in its one intended place:
//
//   - session token (the cookie value, the secret that is the session):
//     the Set-Cookie of the session cookie and the browser's Cookie header
//     to authbff; its SHA-256 (the lookup key) nowhere;
//   - authorization code: the IdP's redirect answer (Location, and the
//     link in its body) and the callback URL it points at;
//   - PKCE verifier, refresh token, client secret, AUTH_SECRET: nowhere
//     (they only travel between authbff and the IdP, or not at all);
//   - access token: the body of GET /api/auth/token and the Authorization
//     header of the proxied request to the backend API;
//   - ID token: the url in the body of the sign-out answer, the IdP's
//     end-session URL (id_token_hint);
//   - session handle (the sessions table's id, not a secret but listed so
//     any new exposure is a decision): the GET /api/auth/sessions body, the
//     DELETE /api/auth/sessions/:id URL, and the logs' session_id field.
//
// For a JWT the payload and signature segments are looked for on their own
// too, so a log of the claims or of a cut token is caught.
func TestSecretsNeverLeak(t *testing.T) {
	t.Run("PostgreSQL", func(t *testing.T) {
		testSecretsNeverLeak(t, map[string]string{"DATABASE_URL": testenv.NewPostgresURL(t), "AUTH_MIGRATE_ON_START": "true"})
	})
	t.Run("SQLite", func(t *testing.T) { testSecretsNeverLeak(t, map[string]string{}) })
}

const (
	leakClientSecret = "leak-check-client-secret-7c1e2f9a0b3d4e5f"
	leakAuthSecret   = "leak-check-auth-secret-0123456789abcdef0123456789"
	leakCookie       = "authjs.session-token"
)

func testSecretsNeverLeak(t *testing.T, vars map[string]string) {
	op := fakeop.New(t)
	// Access tokens from sign-in live 5 minutes, so the first token and
	// proxy calls use them as they are; authbff's clock is then moved on
	// into the refresh window to force a refresh.
	op.ServeLogins(5*time.Minute, time.Hour)
	// Everyone belongs to two organizations; alice is also an administrator,
	// so the organization switch and the admin and cleanup routes are in the
	// run.
	op.SetLoginClaims(func(user string) map[string]any {
		roles := []string{"user"}
		if user == "alice" {
			roles = append(roles, "admin")
		}
		return map[string]any{"realm_access": map[string]any{"roles": roles},
			"organization": map[string]any{"acme": map[string]any{"id": "org-acme-0001"}, "globex": map[string]any{"id": "org-globex-0002"}}}
	})
	var ahead atomic.Int64
	clock := func() time.Time { return application.SystemClock().Add(time.Duration(ahead.Load())) }

	var upMu sync.Mutex
	var upstream []exchange
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		upMu.Lock()
		upstream = append(upstream, exchange{party: "backend", method: r.Method, url: r.URL.String(),
			reqHeader: r.Header.Clone(), reqBody: body})
		upMu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"orders":[]}`))
	}))
	t.Cleanup(api.Close)

	vars["AUTH_DEBUG"] = "true"
	vars["AUTH_SECRET"] = leakAuthSecret
	vars["AUTH_KEYCLOAK_ISSUER"] = op.Issuer()
	vars["AUTH_KEYCLOAK_ID"] = op.ClientID
	vars["AUTH_KEYCLOAK_SECRET"] = leakClientSecret
	vars["BACKEND_API_URL"] = api.URL
	base, logs := startLeakServe(t, vars, clock)

	rec := &recorder{base: http.DefaultTransport, authbff: mustParse(t, base).Host, idp: mustParse(t, op.Issuer()).Host}
	browser := func() *authjsclient.Client {
		c := authjsclient.New(base)
		c.HTTP.Transport = rec
		return c
	}
	signInAs := func(c *authjsclient.Client, user string) {
		t.Helper()
		landed, err := c.SignInAutoApprove(base+"/", url.Values{"login_hint": {user}})
		require.NoError(t, err)
		require.Equal(t, base+"/", landed)
		s, _, err := c.Session()
		require.NoError(t, err)
		require.NotNil(t, s, "signed in")
	}
	signIn := func(c *authjsclient.Client) { t.Helper(); signInAs(c, "alice") }
	get := func(c *authjsclient.Client, method, path string) authjsclient.Response {
		t.Helper()
		req, err := http.NewRequest(method, base+path, nil)
		require.NoError(t, err)
		req.Header.Set("X-CSRF", "1")
		r, err := c.Do(req)
		require.NoError(t, err)
		return r
	}
	token := func(c *authjsclient.Client) string {
		t.Helper()
		r := get(c, http.MethodGet, "/api/auth/token")
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		var body struct {
			AccessToken string `json:"accessToken"`
		}
		require.NoError(t, r.JSON(&body))
		return body.AccessToken
	}
	proxied := func(c *authjsclient.Client, want string) {
		t.Helper()
		r := get(c, http.MethodGet, "/api/proxy/orders")
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		upMu.Lock()
		defer upMu.Unlock()
		require.Equal(t, "Bearer "+want, upstream[len(upstream)-1].reqHeader.Get("Authorization"))
	}

	// Sign-in, session, token, proxy.
	alice := browser()
	signIn(alice)
	at := token(alice)
	require.Equal(t, op.Secrets().AccessTokens[0], at)
	proxied(alice, at)

	// Refresh: authbff's clock moves into the refresh window.
	ahead.Store(int64(5*time.Minute - application.DefaultRefreshSkew + 10*time.Second))
	refreshed := token(alice)
	require.NotEqual(t, at, refreshed)
	require.Equal(t, 1, op.RefreshRequestsBySubject()["alice"], "the access token was refreshed")
	proxied(alice, refreshed)

	// Switching the active organization rotates alice's session token.
	switched, ur, err := alice.Update(map[string]any{"organizationId": "org-globex-0002"})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, ur.Status, "%s", ur.Body)
	require.Equal(t, "globex", switched["activeOrganization"].(map[string]any)["alias"])

	// An administrator lists and ends another user's sessions, then reads
	// the session statistics and runs the cleanup.
	bob := browser()
	signInAs(bob, "bob")
	bobSession, _, err := bob.Session()
	require.NoError(t, err)
	bobID := bobSession["user"].(map[string]any)["id"].(string)
	r := get(alice, http.MethodGet, "/api/auth/admin/users/"+bobID+"/sessions")
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var bobList struct {
		Sessions []struct {
			ID string `json:"id"`
		} `json:"sessions"`
	}
	require.NoError(t, r.JSON(&bobList))
	require.Len(t, bobList.Sessions, 1)
	r = get(alice, http.MethodDelete, "/api/auth/admin/users/"+bobID+"/sessions")
	require.Less(t, r.Status, 300, "%s", r.Body)
	s, _, err := bob.Session()
	require.NoError(t, err)
	require.Nil(t, s, "the administrator ended bob's session")
	r = get(alice, http.MethodGet, "/api/auth/cleanup")
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r = get(alice, http.MethodPost, "/api/auth/cleanup")
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)

	// Two more browsers of the same user; the last one's IdP session is the
	// one the back-channel logout names.
	other, third := browser(), browser()
	signIn(other)
	signIn(third)

	// List, then revoke the other browser's session (its handle is the one
	// its own list marks current).
	type listJSON struct {
		Sessions []struct {
			ID      string `json:"id"`
			Current bool   `json:"current"`
		} `json:"sessions"`
	}
	list := func(c *authjsclient.Client) listJSON {
		t.Helper()
		r := get(c, http.MethodGet, "/api/auth/sessions")
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		var l listJSON
		require.NoError(t, r.JSON(&l))
		return l
	}
	var handles []string
	for _, s := range list(alice).Sessions {
		handles = append(handles, s.ID)
	}
	require.Len(t, handles, 3)
	revoked := ""
	for _, s := range list(other).Sessions {
		if s.Current {
			revoked = s.ID
		}
	}
	require.Contains(t, handles, revoked)
	r = get(alice, http.MethodDelete, "/api/auth/sessions/"+revoked)
	require.Equal(t, http.StatusNoContent, r.Status, "%s", r.Body)
	s, _, err = other.Session()
	require.NoError(t, err)
	require.Nil(t, s, "the other browser is signed out")
	s, _, err = third.Session()
	require.NoError(t, err)
	require.NotNil(t, s, "the third browser is not")

	// Back-channel logout of the third browser's IdP session, posted as the
	// IdP does (through the recorder too).
	idp := &http.Client{Transport: rec, Timeout: 10 * time.Second}
	resp, err := idp.PostForm(base+"/api/auth/backchannel-logout",
		url.Values{"logout_token": {op.LogoutToken("alice", op.SessionID("alice"))}})
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	s, _, err = third.Session()
	require.NoError(t, err)
	require.Nil(t, s, "the back-channel logout ended the third browser's session")
	s, _, err = alice.Session()
	require.NoError(t, err)
	require.NotNil(t, s, "and only that one")

	// RP-initiated sign-out: the end-session URL carries the ID token.
	endSession, sr, err := alice.SignOut(base + "/")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, sr.Status)
	issued := op.Secrets()
	hint, err := url.Parse(endSession)
	require.NoError(t, err)
	require.Equal(t, issued.IDTokens[1], hint.Query().Get("id_token_hint"), "alice's refreshed ID token")
	s, _, err = alice.Session()
	require.NoError(t, err)
	require.Nil(t, s)

	// The secrets of the run.
	require.Len(t, issued.Codes, 4)
	require.Len(t, issued.Verifiers, 4, "every code exchange presented a PKCE verifier")
	require.Contains(t, issued.ClientSecrets, leakClientSecret, "the IdP was shown the configured client secret")
	require.Len(t, issued.AccessTokens, 5) // four sign-ins and one refresh
	sessionTokens := rec.sessionTokens()
	require.Len(t, sessionTokens, 5, "one session cookie per sign-in, and the one the organization switch rotated in")

	places := rec.places()
	upMu.Lock()
	for _, e := range upstream {
		places = append(places, e.places()...)
	}
	upMu.Unlock()
	logText := logs.String()
	require.Contains(t, logText, `"level":"DEBUG"`, "debug logging is on")
	places = append(places, place{party: "logs", part: "logs", text: logText})

	var secrets []secret
	add := func(kind string, values []string, allowed func(place) bool) {
		for i, v := range values {
			require.GreaterOrEqual(t, len(v), 16, "%s #%d is long enough to look for", kind, i+1)
			secrets = append(secrets, secret{kind: fmt.Sprintf("%s #%d", kind, i+1), value: v, allowed: allowed})
		}
	}
	nowhere := func(place) bool { return false }
	var hashes []string
	for _, tok := range sessionTokens {
		hashes = append(hashes, string(domain.SessionToken(tok).Hash()))
	}
	add("session token", sessionTokens, func(p place) bool {
		return p.party == "authbff" && (p.part == "request header Cookie" ||
			p.part == "response header Set-Cookie" && strings.HasPrefix(p.text, leakCookie+"="))
	})
	add("session token hash", hashes, nowhere)
	add("authorization code", issued.Codes, func(p place) bool {
		// The IdP's redirect: its Location and the link in its body (what
		// Go's http.Redirect writes for a GET).
		return p.party == "idp" && p.path == "/auth" && (p.part == "response header Location" || p.part == "response body") ||
			p.party == "authbff" && p.path == "/api/auth/callback/keycloak" && p.part == "request URL"
	})
	add("PKCE verifier", issued.Verifiers, nowhere)
	add("client secret", []string{leakClientSecret}, nowhere)
	add("AUTH_SECRET", []string{leakAuthSecret}, nowhere)
	add("refresh token", issued.RefreshTokens, nowhere)
	add("access token", issued.AccessTokens, func(p place) bool {
		return p.party == "authbff" && p.method == http.MethodGet && p.path == "/api/auth/token" && p.part == "response body" ||
			p.party == "backend" && p.part == "request header Authorization"
	})
	add("ID token", issued.IDTokens, func(p place) bool {
		return p.party == "authbff" && p.method == http.MethodPost && p.path == "/api/auth/signout" && p.part == "response body"
	})
	for _, bs := range bobList.Sessions {
		handles = append(handles, bs.ID)
	}
	add("session handle", handles, func(p place) bool {
		return p.party == "logs" ||
			p.party == "authbff" && p.method == http.MethodGet && p.path == "/api/auth/sessions" && p.part == "response body" ||
			p.party == "authbff" && p.method == http.MethodGet && strings.HasPrefix(p.path, "/api/auth/admin/users/") && p.part == "response body" ||
			p.party == "authbff" && p.method == http.MethodDelete && strings.HasPrefix(p.path, "/api/auth/sessions/") && p.part == "request URL"
	})

	seen := map[string]int{} // intended occurrences, by kind
	for _, sec := range secrets {
		for _, p := range places {
			for _, needle := range sec.needles() {
				if !strings.Contains(p.text, needle) {
					continue
				}
				if sec.allowed(p) {
					seen[strings.SplitN(sec.kind, " #", 2)[0]]++
					break
				}
				i := strings.Index(p.text, needle)
				t.Errorf("%s found in %s: …%s…", sec.kind, p, excerpt(p.text, i, len(needle)))
				break
			}
		}
	}
	// The search finds what is there: every kind with an intended place was
	// seen in it.
	for _, kind := range []string{"session token", "authorization code", "access token", "ID token", "session handle"} {
		require.Positive(t, seen[kind], "%s seen in its intended place", kind)
	}
	var bytesScanned int
	for _, p := range places {
		bytesScanned += len(p.text)
	}
	t.Logf("%d secrets looked for in %d places (%d recorded exchanges, %d backend requests, %d bytes of logs, %d bytes in all); intended occurrences: %v",
		len(secrets), len(places), rec.count(), len(upstream), len(logText), bytesScanned, seen)
}

// startLeakServe runs the server as `authbff serve` does, in-process, with
// vars and application clock now. The app is reached as localhost while
// the fake IdP and the backend are 127.0.0.1, so a browser's cookie jar
// (which ignores ports) never sends authbff's cookies to the IdP.
func startLeakServe(t *testing.T, vars map[string]string, now application.Clock) (string, *syncBuffer) {
	t.Helper()
	addr := freeAddr(t)
	_, port, _ := strings.Cut(addr, ":")
	base := "http://localhost:" + port
	vars["LISTEN_ADDR"] = addr
	vars["AUTH_URL"] = base + "/api/auth"
	vars["AUTH_ENV"] = "development"
	vars["AUTH_CLEANUP_INTERVAL"] = "0"
	logs := startApp(t, vars, fx.Decorate(func(application.Clock) application.Clock { return now }))
	return base, logs
}

// exchange is one request and its answer, recorded whole.
type exchange struct {
	party      string // authbff, idp or backend: who answered
	method     string
	url        string
	reqHeader  http.Header
	reqBody    []byte
	respHeader http.Header
	respBody   []byte
}

// place is one part of one exchange (or the logs) where a secret may be.
type place struct {
	party, method, path, part, text string
}

func (p place) String() string {
	if p.party == "logs" {
		return "the logs"
	}
	return fmt.Sprintf("%s %s %s: %s", p.party, p.method, p.path, p.part)
}

func (e exchange) places() []place {
	u, _ := url.Parse(e.url)
	at := func(part, text string) place {
		return place{party: e.party, method: e.method, path: u.Path, part: part, text: text}
	}
	out := []place{at("request URL", e.url), at("request body", string(e.reqBody)), at("response body", string(e.respBody))}
	for _, h := range []struct {
		dir string
		h   http.Header
	}{{"request", e.reqHeader}, {"response", e.respHeader}} {
		for name, values := range h.h {
			for _, v := range values { // one place per Set-Cookie line
				out = append(out, at(h.dir+" header "+name, v))
			}
		}
	}
	return out
}

// recorder is a RoundTripper that keeps every exchange whole.
type recorder struct {
	base         http.RoundTripper
	authbff, idp string // hosts

	mu  sync.Mutex
	log []exchange
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		_ = req.Body.Close()
		reqBody = b
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	resp, err := r.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	respBody, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	party := "other"
	switch req.URL.Host {
	case r.authbff:
		party = "authbff"
	case r.idp:
		party = "idp"
	}
	r.mu.Lock()
	r.log = append(r.log, exchange{party: party, method: req.Method, url: req.URL.String(), reqHeader: req.Header.Clone(),
		reqBody: reqBody, respHeader: resp.Header.Clone(), respBody: respBody})
	r.mu.Unlock()
	return resp, nil
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.log)
}

func (r *recorder) places() []place {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []place
	for _, e := range r.log {
		out = append(out, e.places()...)
	}
	return out
}

// sessionTokens returns every distinct session cookie value authbff set.
func (r *recorder) sessionTokens() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[string]bool{}
	var out []string
	for _, e := range r.log {
		if e.party != "authbff" {
			continue
		}
		for _, c := range (&http.Response{Header: e.respHeader}).Cookies() {
			if c.Name == leakCookie && c.Value != "" && !seen[c.Value] {
				seen[c.Value] = true
				out = append(out, c.Value)
			}
		}
	}
	return out
}

// secret is one value and where it may be.
type secret struct {
	kind    string
	value   string
	allowed func(place) bool
}

// needles are the forms the value is looked for in: as is, URL-escaped,
// JSON-escaped, and for a JWT its payload and its signature on their own.
func (s secret) needles() []string {
	out := []string{s.value}
	if q := url.QueryEscape(s.value); q != s.value {
		out = append(out, q)
	}
	if j, _ := json.Marshal(s.value); string(j[1:len(j)-1]) != s.value {
		out = append(out, string(j[1:len(j)-1]))
	}
	if parts := strings.Split(s.value, "."); len(parts) == 3 {
		out = append(out, parts[1], parts[2])
	}
	return out
}

func excerpt(text string, i, n int) string {
	from, to := max(0, i-40), min(len(text), i+n+40)
	return text[from:to]
}
