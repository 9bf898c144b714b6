package proxy_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/adapters/proxy"
	"github.com/authbff/authbff/application"
)

type seen struct {
	method, path, rawQuery, body string
	header                       http.Header
}

func upstream(t *testing.T, got chan<- seen) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{method: r.Method, path: r.URL.Path, rawQuery: r.URL.RawQuery, body: string(b), header: r.Header.Clone()}
		w.Header().Set("X-Upstream", "yes")
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write([]byte("from upstream"))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func newProxy(t *testing.T, target string) *proxy.Proxy {
	u, _ := url.Parse(target)
	pub, _ := url.Parse("https://app.example.com/api/auth")
	p, err := proxy.New(proxy.Config{Upstream: u, StripPrefix: "/api/proxy", Timeout: 2 * time.Second, PublicURL: pub},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	return p
}

var creds = application.UpstreamCredentials{AccessToken: "AT-123", TokenType: "Bearer", TenantID: "tenant-acme", OrganizationID: "org-acme"}

func TestProxyAddsExactlyTheSessionsHeaders(t *testing.T) {
	got := make(chan seen, 1)
	up := upstream(t, got)
	p := newProxy(t, up.URL+"/api/v1")

	req := httptest.NewRequest(http.MethodPost, "/api/proxy/customers/42?x=1&y=%2F", strings.NewReader(`{"a":1}`))
	req.Header.Set("Authorization", "Bearer attacker")
	req.Header.Add("authorization", "Bearer attacker2")
	req.Header["X_Tenant_ID"] = []string{"evil-tenant"}
	req.Header["x-tenant-id"] = []string{"evil-tenant-2"}
	req.Header.Set("X-Organization-ID", "evil-org")
	req.Header.Set("X-Forwarded-For", "6.6.6.6")
	req.Header.Set("X-Forwarded-Host", "evil.example.com")
	req.Header.Set("Forwarded", "for=6.6.6.6")
	req.Header.Set("Cookie", "authjs.session-token=secret; theme=dark; __Secure-authjs.callback-url=x; __Host-authjs.csrf-token=y")
	req.Header.Set("Connection", "X-Tenant-ID")
	req.Header.Set("X-Request-ID", "req-1")
	req.RemoteAddr = "192.0.2.10:5555"
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, req.WithContext(application.WithUpstreamCredentials(context.Background(), creds)))

	require.Equal(t, http.StatusTeapot, rec.Code)
	require.Equal(t, "from upstream", rec.Body.String())
	require.Equal(t, "yes", rec.Header().Get("X-Upstream"))
	s := <-got
	require.Equal(t, "/api/v1/customers/42", s.path)
	require.Equal(t, "x=1&y=%2F", s.rawQuery)
	require.Equal(t, `{"a":1}`, s.body)
	require.Equal(t, []string{"Bearer AT-123"}, s.header.Values("Authorization"))
	require.Equal(t, []string{"tenant-acme"}, s.header.Values("X-Tenant-Id"))
	require.Equal(t, []string{"org-acme"}, s.header.Values("X-Organization-Id"))
	require.Len(t, s.header.Values("X-Request-Id"), 1)
	require.NotEqual(t, "req-1", s.header.Get("X-Request-Id"), "the client's request id is not forwarded: authbff sends its own")
	for name, v := range s.header {
		n := strings.ToLower(strings.ReplaceAll(name, "_", "-"))
		if n == "x-tenant-id" || n == "x-organization-id" || n == "authorization" {
			require.Len(t, v, 1, name)
		}
		for _, val := range v {
			require.NotContains(t, val, "evil", "%s leaked a spoofed value", name)
			require.NotContains(t, val, "attacker", name)
		}
	}
	require.Equal(t, "192.0.2.10", s.header.Get("X-Forwarded-For"), "client X-Forwarded-For is replaced, not appended")
	require.Equal(t, "app.example.com", s.header.Get("X-Forwarded-Host"), "from AUTH_URL")
	require.Equal(t, "https", s.header.Get("X-Forwarded-Proto"), "from AUTH_URL")
	require.Empty(t, s.header.Get("Forwarded"))
	require.Equal(t, "theme=dark", s.header.Get("Cookie"), "auth cookies never leave authbff")
}

func TestProxyRefusesWithoutCredentials(t *testing.T) {
	got := make(chan seen, 1)
	p := newProxy(t, upstream(t, got).URL)
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/proxy/x", nil))
	require.Equal(t, http.StatusUnauthorized, rec.Code)
	require.Empty(t, got, "nothing reached the upstream")
}

func TestProxyPathStaysOnUpstream(t *testing.T) {
	got := make(chan seen, 4)
	up := upstream(t, got)
	p := newProxy(t, up.URL+"/api")
	for _, path := range []string{"/api/proxy//evil.example.com/x", "/api/proxy/../../etc/passwd"} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "http://bff.local/", nil)
		req.URL.Path = path
		p.ServeHTTP(rec, req.WithContext(application.WithUpstreamCredentials(context.Background(), creds)))
		require.Equal(t, http.StatusTeapot, rec.Code, "request %q must go to the configured upstream", path)
		s := <-got
		require.True(t, strings.HasPrefix(s.path, "/api/"), s.path)
	}
}

// TestProxyRefusesDecodedPercent: a '%' left in the decoded path means the
// client double-encoded it (%252e); the backend would decode it again.
func TestProxyRefusesDecodedPercent(t *testing.T) {
	got := make(chan seen, 1)
	p := newProxy(t, upstream(t, got).URL)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "http://bff.local/", nil)
	req.URL.Path = "/api/proxy/%2e%2e/admin"
	p.ServeHTTP(rec, req.WithContext(application.WithUpstreamCredentials(context.Background(), creds)))
	require.Equal(t, http.StatusBadRequest, rec.Code)
	require.Contains(t, rec.Body.String(), "invalid_path")
	require.Empty(t, got)
}

func TestProxyUpstreamDown(t *testing.T) {
	p := newProxy(t, "http://127.0.0.1:1")
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/proxy/x", nil).WithContext(application.WithUpstreamCredentials(context.Background(), creds)))
	require.Equal(t, http.StatusBadGateway, rec.Code)
	require.Contains(t, rec.Body.String(), "upstream_unavailable")
}

func TestProxyGuardsTheResponse(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Add("Set-Cookie", "authjs.session-token=attacker; Path=/")
		w.Header().Add("Set-Cookie", "__Secure-authjs.session-token=attacker; Path=/")
		w.Header().Add("Set-Cookie", "backend-pref=1; Path=/")
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<script>fetch('/api/auth/token')</script>"))
	}))
	defer up.Close()
	p := newProxy(t, up.URL)
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/proxy/page", nil).WithContext(application.WithUpstreamCredentials(context.Background(), creds)))
	require.Equal(t, []string{"backend-pref=1; Path=/"}, rec.Header().Values("Set-Cookie"), "the backend cannot set authbff's cookies")
	require.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
	require.Contains(t, rec.Header().Get("Content-Security-Policy"), "sandbox")
}
