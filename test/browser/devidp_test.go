package browser

import (
	"github.com/chromedp/chromedp"
	"strings"
	"testing"
	"time"
)

// TestBrowserWithTheDevelopmentIdP is `authbff serve` with nothing
// configured (SQLite and the embedded development IdP) behind the front
// origin, in Chromium.
func TestBrowserWithTheDevelopmentIdP(t *testing.T) {
	requireBrowser(t)
	t.Parallel()
	f := newFront(t)
	up := serveWithDevIdP(t, f)
	runScenario(t, f, up, devIdP(f), "bob", "bob@example.com")
}

// serveWithDevIdP starts `authbff serve` with nothing configured but its
// public URL (SQLite and the embedded development IdP) and a backend API,
// behind f, and returns the backend.
func serveWithDevIdP(t *testing.T, f *front) *upstream {
	up := newUpstream(t)
	bff := startBFF(t, map[string]string{
		"AUTH_URL":        f.Origin + "/api/auth",
		"AUTH_DATA_DIR":   t.TempDir(),
		"BACKEND_API_URL": up.srv.URL,
	})
	f.serve(t, bff)
	return up
}

// devIdP is the embedded development IdP's login page (a button per demo
// user) for authbff behind f.
func devIdP(f *front) idp {
	return idp{
		name: "Development IdP (demo users)",
		at:   func(u string) bool { return !strings.HasPrefix(u, f.Origin) && strings.Contains(u, "/login?") },
		login: func(b *browser, user string, done func(string) bool) (string, time.Duration) {
			b.t.Helper()
			b.check("development IdP login page")
			return b.leave("pick "+user, `document.getElementById(`+js("login-"+user)+`).click()`, done)
		},
	}
}

// TestBrowserScenarioOverHTTPS is the same whole scenario with authbff
// behind a TLS-terminating front (AUTH_URL https://127.0.0.1:port/api/auth),
// so every step runs with the __Secure-/__Host- cookies, HSTS and the
// Secure attribute a production deployment has: sign-in through the page,
// the sign-in button and signIn(), a reload, the organization switch, the
// proxy, both sign-outs and the error pages.
func TestBrowserScenarioOverHTTPS(t *testing.T) {
	requireBrowser(t)
	t.Parallel()
	cert, spki := selfSignedCert(t)
	f := newTLSFront(t, cert)
	up := serveWithDevIdP(t, f)
	runScenario(t, f, up, devIdP(f), "bob", "bob@example.com", chromedp.Flag("ignore-certificate-errors-spki-list", spki))
}
