package httpapi_test

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/adapters/httpapi"
)

// spellings returns a header name as clients may write it: as given, lower,
// upper, random mixed case, each also with '_' for '-'.
func spellings(rng *rand.Rand, name string) []string {
	mixed := []byte(strings.ToLower(name))
	for i := range mixed {
		if rng.IntN(2) == 0 {
			mixed[i] = byte(strings.ToUpper(string(mixed[i]))[0])
		}
	}
	var out []string
	for _, n := range []string{name, strings.ToLower(name), strings.ToUpper(name), string(mixed)} {
		out = append(out, n, strings.ReplaceAll(n, "-", "_"))
	}
	return out
}

func randomSuffix(rng *rand.Rand) string {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 3+rng.IntN(10))
	for i := range b {
		b[i] = letters[rng.IntN(len(letters))]
	}
	return string(b)
}

// TestProxyForwardsNoClientCopyOfOwnedHeaders is issue 9's proxy acceptance:
// a recording upstream behind the real router and proxy receives none of
// the identity, tenancy, client-address or original-URL headers the client
// sent, in any case or spelling, including random names of the denied
// families that no list names; X-Forwarded-Host is AUTH_URL's host whatever
// Host the client sent; X-Request-ID is authbff's own.
func TestProxyForwardsNoClientCopyOfOwnedHeaders(t *testing.T) {
	var mu sync.Mutex
	var got []http.Header
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Clone()
		h.Set("Host", r.Host)
		mu.Lock()
		got = append(got, h)
		mu.Unlock()
		_, _ = w.Write([]byte("ok"))
	}))
	defer up.Close()
	a, _ := newEdgeApp(t, fakeStores(), up.URL+"/api")
	c := signIn(t, a, alice)
	pub, _ := url.Parse(a.srv.URL)
	token := sessionCookie(c, a)
	require.NotEmpty(t, token)

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	named := []string{"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Forwarded-Port", "X-Forwarded-Prefix",
		"X-Forwarded-User", "X-Forwarded-Email", "X-Forwarded-Preferred-Username", "X-Forwarded-Access-Token", "Forwarded",
		"X-Real-IP", "True-Client-IP", "X-Original-URL", "X-Original-Host", "X-Original-URI", "X-Rewrite-URL", "X-Client-IP",
		"X-Tenant", "X-Tenant-ID", "X-Organization-ID", "X-Organization", "X-User", "X-User-ID", "X-User-Email",
		"X-Auth-Request-User", "X-Auth-Request-Email", "X-Auth-Token", "X-Remote-User", "X-Remote-Addr",
		"Authorization", "Proxy-Authorization", "X-Request-ID"}
	for _, family := range []string{"X-Forwarded-", "X-Tenant-", "X-Tenant", "X-Original-", "X-Organization-", "X-User-",
		"X-User", "X-Auth-", "X-Auth", "X-Remote-"} {
		for i := 0; i < 5; i++ {
			named = append(named, family+randomSuffix(rng))
		}
	}
	var all []string
	for _, n := range named {
		all = append(all, spellings(rng, n)...)
	}
	const perRequest = 60
	requests := 0
	for start := 0; start < len(all); start += perRequest {
		req, _ := http.NewRequest(http.MethodGet, a.url("/api/proxy/customers"), nil)
		for i, n := range all[start:min(start+perRequest, len(all))] {
			req.Header[n] = append(req.Header[n], fmt.Sprintf("spoof-%d", start+i))
		}
		req.Host = "evil.example"
		req.Header.Set("Connection", "keep-alive, X_Hop_Custom")
		req.Header["X_Hop_Custom"] = []string{"spoof-hop"}
		req.Header.Set("X-Harmless", "kept")
		// Host is not AUTH_URL's, so the jar would not attach the session
		// cookie: set it by hand.
		req.AddCookie(&http.Cookie{Name: "authjs.session-token", Value: token})
		req.AddCookie(&http.Cookie{Name: "theme", Value: "dark"})
		req.AddCookie(&http.Cookie{Name: "__Secure-authjs.session-token.1", Value: "spoof-chunk"})
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s %v", body, resp.Header)
		requests++
		mu.Lock()
		h := got[len(got)-1]
		mu.Unlock()
		for name, vals := range h {
			for _, v := range vals {
				require.NotContains(t, v, "spoof", "%s reached the upstream", name)
			}
		}
		require.Equal(t, pub.Host, h.Get("X-Forwarded-Host"), "X-Forwarded-Host is AUTH_URL's host")
		require.Equal(t, "http", h.Get("X-Forwarded-Proto"))
		require.Equal(t, "127.0.0.1", h.Get("X-Forwarded-For"), "the socket peer: no trusted proxies configured")
		require.Equal(t, []string{resp.Header.Get("X-Request-ID")}, h.Values("X-Request-ID"), "authbff's own request id")
		require.Equal(t, []string{"tenant-acme"}, h.Values("X-Tenant-ID"))
		require.Len(t, h.Values("Authorization"), 1)
		require.True(t, strings.HasPrefix(h.Get("Authorization"), "Bearer "))
		require.Equal(t, "theme=dark", h.Get("Cookie"), "authbff's cookies are stripped, the app's kept")
		require.Equal(t, "kept", h.Get("X-Harmless"))
		require.NotEqual(t, "evil.example", h.Get("Host"))
	}
	t.Logf("%d header names (%d random) × 8 spellings = %d client headers in %d proxied requests: 0 reached the upstream",
		len(named), 50, len(all), requests)

	// %25 in a proxied path segment: refused, not forwarded decoded once.
	before := len(got)
	req, _ := http.NewRequest(http.MethodGet, a.srv.URL, nil)
	req.URL.Opaque = "/api/proxy/x/%252e%252e/admin"
	resp, err := c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Len(t, got, before, "nothing forwarded")
}

// TestProxyClientIPFollowsTrustedProxies: with AUTH_TRUSTED_PROXIES naming
// the peer, the upstream's X-Forwarded-For is the client the trusted proxy
// reported, one address, not the chain; a spoofed entry left of it is not
// believed, and without trusted proxies the peer is the client.
func TestProxyClientIPFollowsTrustedProxies(t *testing.T) {
	got := make(chan http.Header, 4)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Clone()
		_, _ = w.Write([]byte("ok"))
	}))
	defer up.Close()
	for _, tc := range []struct {
		trusted []string
		want    string
	}{{[]string{"127.0.0.1/32"}, "203.0.113.7"}, {nil, "127.0.0.1"}} {
		a, _ := newEdgeApp(t, fakeStores(), up.URL, edgeOption{config: func(c *httpapi.Config) { c.TrustedProxies = tc.trusted }})
		c := signIn(t, a, alice)
		req, _ := http.NewRequest(http.MethodGet, a.url("/api/proxy/x"), nil)
		req.Header.Set("X-Forwarded-For", "198.51.100.66, 203.0.113.7")
		resp, err := c.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		h := <-got
		require.Equal(t, []string{tc.want}, h.Values("X-Forwarded-For"), "trusted %v", tc.trusted)
		t.Logf("trusted proxies %v, client X-Forwarded-For %q → upstream X-Forwarded-For %q", tc.trusted,
			"198.51.100.66, 203.0.113.7", h.Get("X-Forwarded-For"))
	}
}
