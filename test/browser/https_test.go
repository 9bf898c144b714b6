package browser

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// selfSignedCert is a certificate for 127.0.0.1 and localhost, and the
// base64 SHA-256 of its public key, which Chromium's
// --ignore-certificate-errors-spki-list trusts (that key only, not every
// certificate error).
func selfSignedCert(t *testing.T) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "authbff browser test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	spki, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	require.NoError(t, err)
	sum := sha256.Sum256(spki)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, base64.StdEncoding.EncodeToString(sum[:])
}

// proxySeen is one /api/proxy/ request as the front saw it.
type proxySeen struct {
	method, origin, fetchSite string
	sessionCookie             bool
	status                    int
}

// crossSitePage posts to target twice without X-CSRF, as another site can:
// a no-cors fetch with the user's cookies (its answer is opaque, so it
// cannot tell), then a form that navigates there.
func crossSitePage(target string) string {
	return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>elsewhere</title></head><body>
<form id="f" method="post" action="` + target + `"><input type="hidden" name="x" value="1"></form>
<script>
fetch(` + js(target) + `, {method: "POST", mode: "no-cors", credentials: "include",
  headers: {"Content-Type": "application/x-www-form-urlencoded"}, body: "x=1"})
  .finally(() => document.getElementById("f").submit());
</script></body></html>`
}

// TestHTTPSCookiesInChromium is authbff behind a TLS-terminating front
// (AUTH_URL https://127.0.0.1:port/api/auth, authbff itself on http), with
// the embedded development IdP, in Chromium. After signing in through the
// pages, the cookie jar of the browser itself holds the Auth.js cookies
// under their __Secure-/__Host- names with Secure, HttpOnly, SameSite=Lax,
// Path=/ and no Domain; the app's fetches work; and posts without X-CSRF
// from a page on another site and on another origin of the same site, to
// the proxy and to the Auth.js sign-out and session update, are refused,
// never reach the backend and leave the session as it was.
func TestHTTPSCookiesInChromium(t *testing.T) {
	requireBrowser(t)
	t.Parallel()
	cert, spki := selfSignedCert(t)
	f := newTLSFront(t, cert)
	var mu sync.Mutex
	var seen []proxySeen
	watched := "" // the path whose requests are recorded
	f.observe = func(r *http.Request, status int) {
		_, err := r.Cookie("__Secure-authjs.session-token")
		mu.Lock()
		if r.URL.Path == watched {
			seen = append(seen, proxySeen{r.Method, r.Header.Get("Origin"), r.Header.Get("Sec-Fetch-Site"), err == nil, status})
		}
		mu.Unlock()
	}
	up := serveWithDevIdP(t, f)
	b := newBrowser(t, chromedp.Flag("ignore-certificate-errors-spki-list", spki))
	m := &timings{t: t}
	defer m.print()
	app := f.Origin + "/app"

	// Sign in through the built-in page and the IdP's login page; the
	// redirect chain ends on the app's page, signed in.
	_, d := b.open(f.Origin+"/api/auth/signin?callbackUrl=%2Fapp", devIdP(f).at)
	m.add("https sign-in page → IdP login page (auto-submit)", d)
	b.check("sign-in page over https")
	_, d = devIdP(f).login(b, "bob", exactly(app))
	m.add("IdP login → back at https /app", d)
	signedInAs(b, "bob@example.com")
	b.check("signed in over https")

	// The browser's own cookie jar, as DevTools reports it.
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{f.Origin + "/"}})
	require.NoError(t, err)
	host := strings.Split(strings.TrimPrefix(f.Origin, "https://"), ":")[0]
	var names []string
	for _, c := range res.Cookies {
		n := strings.ToLower(c.Name)
		if !strings.Contains(n, "authjs.") && !strings.Contains(n, "next-auth.") {
			continue // the development IdP's own cookies
		}
		names = append(names, c.Name)
		desc := fmt.Sprintf("%s: domain %q path %q secure %t httpOnly %t sameSite %q source %s", c.Name, c.Domain, c.Path, c.Secure, c.HTTPOnly, c.SameSite, c.SourceScheme)
		t.Log("cookie " + desc)
		require.True(t, strings.HasPrefix(c.Name, "__Secure-") || strings.HasPrefix(c.Name, "__Host-"), "prefixed over https: %s", desc)
		require.True(t, c.Secure, desc)
		require.True(t, c.HTTPOnly, desc)
		require.Equal(t, network.CookieSameSiteLax, c.SameSite, desc)
		require.Equal(t, "/", c.Path, desc)
		require.Equal(t, host, c.Domain, "host-only, no Domain attribute: %s", desc)
		require.Equal(t, network.CookieSourceSchemeSecure, c.SourceScheme, "set over https: %s", desc)
	}
	sort.Strings(names)
	require.Contains(t, names, "__Secure-authjs.session-token")
	require.Contains(t, names, "__Host-authjs.csrf-token")
	require.Empty(t, eval[string](b, `document.cookie`), "no Auth.js cookie is readable from the page")

	// The app's fetches after the redirect chain.
	require.Equal(t, "bob@example.com", getSession(b).User.Email, "GET /api/auth/session from the page")
	proxied := eval[struct {
		Status int    `json:"status"`
		Body   string `json:"body"`
	}](b, `window.authbff.proxy("/orders")`)
	require.Equal(t, 200, proxied.Status, proxied.Body)
	require.True(t, strings.HasPrefix(up.last(t).Get("Authorization"), "Bearer "))
	post := eval[int](b, `fetch("/api/proxy/orders", {method: "POST", body: "x=1"}).then((r) => r.status)`)
	require.Equal(t, 200, post, "a same-origin POST needs no X-CSRF")
	b.check("fetches over https")

	// Another site (https://localhost:port) and another origin of the same
	// site (https://127.0.0.1:other-port) post without X-CSRF or a CSRF
	// token to the proxy and to the Auth.js routes that change the session
	// (sign-out, session update): all refused by the origin guard, 403
	// (cross_origin for the proxy, Auth.js's AccessDenied for its routes).
	// They also send the browser to the proxy with a GET, which carries the
	// SameSite=Lax cookie (refused by the proxy's X-CSRF rule for
	// cross-site reads, 403 csrf_required). None of it reaches the backend
	// or ends the session.
	evil := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		to := r.URL.Query().Get("to")
		if r.URL.Path == "/nav" {
			_, _ = w.Write([]byte(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>elsewhere</title></head><body>
<script>location.href = ` + js(to) + `;</script></body></html>`))
			return
		}
		_, _ = w.Write([]byte(crossSitePage(to)))
	}))
	evil.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	evil.StartTLS()
	defer evil.Close()
	port := evil.Listener.Addr().(*net.TCPAddr).Port
	backendCalls := func() int { up.mu.Lock(); defer up.mu.Unlock(); return len(up.seen) }
	for _, c := range []struct {
		origin, site string
		cookie       bool
	}{
		{fmt.Sprintf("https://localhost:%d", port), "cross-site", false}, // SameSite=Lax keeps the cookie off a cross-site POST
		{fmt.Sprintf("https://127.0.0.1:%d", port), "same-site", true},   // same site: the cookie goes along
	} {
		for _, a := range []struct {
			page, path, method, shows string
			want                      proxySeen
		}{
			{"/post", "/api/proxy/orders", "fetch and form POST", `"cross_origin"`, proxySeen{http.MethodPost, c.origin, c.site, c.cookie, http.StatusForbidden}},
			{"/nav", "/api/proxy/orders", "navigation GET", `"csrf_required"`, proxySeen{http.MethodGet, "", c.site, true, http.StatusForbidden}},
			{"/post", "/api/auth/signout", "fetch and form POST", "error=AccessDenied", proxySeen{http.MethodPost, c.origin, c.site, c.cookie, http.StatusForbidden}},
			{"/post", "/api/auth/session", "fetch and form POST", "null", proxySeen{http.MethodPost, c.origin, c.site, c.cookie, http.StatusForbidden}},
		} {
			target := f.Origin + a.path
			mu.Lock()
			seen, watched = nil, a.path
			mu.Unlock()
			backend := backendCalls()
			_, d = b.open(c.origin+a.page+"?to="+url.QueryEscape(target), exactly(target))
			m.add(c.site+" page → "+a.method+" "+target, d)
			require.Contains(t, b.text("body"), a.shows, "the answer the browser shows")
			b.checkExcept(c.site+" "+a.method, target, "403 (Forbidden)")
			mu.Lock()
			got := seen
			mu.Unlock()
			if a.method == "navigation GET" {
				require.Len(t, got, 1)
			} else {
				require.Len(t, got, 2, "the fetch and the form post")
			}
			for _, s := range got {
				t.Logf("%s page: %s %s, Origin %q, Sec-Fetch-Site %s, session cookie sent %t → %d %s", c.site, s.method, target, s.origin, s.fetchSite, s.sessionCookie, s.status, a.shows)
				require.Equal(t, a.want, s)
			}
			require.Equal(t, backend, backendCalls(), "the backend saw none of it")
		}
	}

	// The session is still there for the app.
	_, d = b.open(app, exactly(app))
	m.add("back at https /app", d)
	signedInAs(b, "bob@example.com")
	b.check("after the refused posts")
}
