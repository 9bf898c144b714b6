package httpapi_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/adapters/httpapi"
	"github.com/authbff/authbff/adapters/proxy"
	"github.com/authbff/authbff/application"
	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
	"github.com/authbff/authbff/test/fake"
)

// TestProxyRoleRulesCannotBeBypassed sends the path tricks that bypass naive
// prefix rules; each is refused (400 or 403) and none reaches the backend's
// /admin.
func TestProxyRoleRulesCannotBeBypassed(t *testing.T) {
	var mu sync.Mutex
	var reached []string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		reached = append(reached, r.URL.EscapedPath())
		mu.Unlock()
		_, _ = w.Write([]byte("ok"))
	}))
	defer up.Close()

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	now := time.Now().UTC()
	clock := func() time.Time { return now }
	idp := fake.NewIdentityProvider("https://kc.example.com/realms/crm")
	idp.Tokens.AccessTokenExpiresAt = now.Add(time.Hour)
	flows, users := fake.NewLoginFlowStore(), fake.NewUserStore()
	sessions := fake.NewSessionStore(users)
	policy := domain.DefaultSessionPolicy()
	tokens := application.NewGetAccessTokenHandler(idp, sessions, users, fake.TokenCipher{}, ports.NopObserver{}, clock, log, nil)
	upURL, _ := url.Parse(up.URL + "/api")
	srv := httptest.NewUnstartedServer(nil)
	pub, _ := url.Parse("http://" + srv.Listener.Addr().String() + "/api/auth")
	px, err := proxy.New(proxy.Config{Upstream: upURL, StripPrefix: httpapi.ProxyPrefix, PublicURL: pub}, log)
	require.NoError(t, err)
	h := httpapi.Handlers{
		Provider:          httpapi.ProviderInfo{ID: "keycloak", Name: "Keycloak"},
		StartSignIn:       application.NewStartSignInHandler(idp, flows, clock),
		CompleteSignIn:    application.NewCompleteSignInHandler(idp, flows, users, sessions, fake.TokenCipher{}, policy, ports.NopObserver{}, clock, log, nil),
		GetSession:        application.NewGetSessionHandler(sessions, policy, clock),
		AuthorizeUpstream: application.NewAuthorizeUpstreamHandler(tokens, []application.PathRule{{Prefix: "/admin", Roles: []string{"admin"}}}),
		Proxy:             px,
	}
	engine, err := httpapi.NewRouter(httpapi.Config{PublicURL: pub, Secrets: [][]byte{[]byte("s")}}, h, log)
	require.NoError(t, err)
	srv.Config.Handler = engine
	srv.Start()
	defer srv.Close()
	a := &testApp{srv: srv, idp: idp, now: now}
	bob := alice
	bob.Subject, bob.Email, bob.Roles = "sub-bob", "bob@example.com", []domain.Role{{Name: "user", Source: "realm"}}
	c := signIn(t, a, bob)

	get := func(rawPath string) int {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		req.URL.Opaque = rawPath // sent exactly as written
		resp, err := c.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, 200, get("/api/proxy/customers"))
	require.Equal(t, 403, get("/api/proxy/admin/users"))
	for _, p := range []string{
		"/api/proxy//admin/users", "/api/proxy/x/../admin/users", "/api/proxy/./admin/users",
		"/api/proxy/admin;x/users", "/api/proxy/x/%2e%2e/admin/users", "/api/proxy/Admin/users",
		"/api/proxy/ADMIN", "/api/proxy/%2Fadmin/users", "/api/proxy/admin%2fusers", "/api/proxy/..%2f..%2fother",
		"/api/proxy/x/..", "/api/proxy/%5cadmin",
	} {
		status := get(p)
		require.Contains(t, []int{400, 403}, status, p)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, r := range reached {
		require.False(t, strings.Contains(strings.ToLower(r), "admin"), "reached %s", r)
		require.True(t, strings.HasPrefix(r, "/api/"), "left the upstream base: %s", r)
	}

	// A cross-site navigation does not get the backend's page; TRACE is refused.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/proxy/customers", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 403, resp.StatusCode)
	req, _ = http.NewRequest(http.MethodTrace, srv.URL+"/api/proxy/customers", nil)
	resp, err = c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 405, resp.StatusCode)
}
