package browser

import (
	"github.com/chromedp/chromedp"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/test/testenv"
)

// testSecret is the AUTH_SECRET of the authbff process.
const testSecret = "browser-secret-0123456789abcdefghijklmnopqrstuvwxyz"

// requireKeycloak returns the Keycloak realm's issuer that `make test`
// started (test/scripts/keycloak.sh imports test/keycloak/crm-realm.json).
// Without one the test is skipped, except under CI=true.
func requireKeycloak(t *testing.T) string {
	t.Helper()
	issuer := os.Getenv("TEST_KEYCLOAK_ISSUER")
	why := ""
	switch {
	case issuer == "":
		why = "TEST_KEYCLOAK_ISSUER not set: run `make test` to start Keycloak"
	case os.Getenv("TEST_DATABASE_URL") == "":
		why = "TEST_DATABASE_URL not set: run `make test`"
	}
	if why != "" {
		if os.Getenv("CI") == "true" {
			t.Fatal(why + " (a failure under CI=true)")
		}
		t.Skip(why)
	}
	return issuer
}

// TestBrowserWithKeycloak is authbff on PostgreSQL against the real
// Keycloak, behind the front origin, in Chromium. The front origin is a
// free loopback port: the test realm registers authbff's redirect and
// post-logout URIs for http://127.0.0.1 on any port (RFC 8252 loopback).
func TestBrowserWithKeycloak(t *testing.T) {
	requireBrowser(t)
	issuer := requireKeycloak(t)
	t.Parallel()
	keycloakScenario(t, issuer, newFront(t))
}

// TestBrowserWithKeycloakOverHTTPS is the same with authbff behind a
// TLS-terminating front (AUTH_URL https://127.0.0.1:port/api/auth), so the
// whole scenario, Keycloak's login and end-session pages included, runs
// with the __Secure-/__Host- cookies of a production deployment. Keycloak
// lets a loopback redirect URI take any port over http only, so the front
// listens on the port the realm registers (AUTHBFF_TEST_HTTPS_BASE_URL,
// chosen by `make test`). Keycloak itself stays on http on loopback.
func TestBrowserWithKeycloakOverHTTPS(t *testing.T) {
	requireBrowser(t)
	issuer := requireKeycloak(t)
	base := os.Getenv("AUTHBFF_TEST_HTTPS_BASE_URL")
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("AUTHBFF_TEST_HTTPS_BASE_URL not set (a failure under CI=true): run `make test`")
		}
		t.Skip("AUTHBFF_TEST_HTTPS_BASE_URL not set: run `make test`")
	}
	t.Parallel()
	cert, spki := selfSignedCert(t)
	f := newTLSFrontAt(t, cert, strings.TrimPrefix(base, "https://"))
	keycloakScenario(t, issuer, f, chromedp.Flag("ignore-certificate-errors-spki-list", spki))
}

// keycloakScenario runs the browser scenario against Keycloak, with authbff
// (on PostgreSQL) behind f.
func keycloakScenario(t *testing.T, issuer string, f *front, browserOpts ...chromedp.ExecAllocatorOption) {
	dbURL := testenv.NewPostgresURL(t)
	up := newUpstream(t)
	vars := map[string]string{
		"DATABASE_URL":          dbURL,
		"AUTH_SECRET":           testSecret,
		"AUTH_KEYCLOAK_ISSUER":  issuer,
		"AUTH_KEYCLOAK_ID":      "web_app",
		"AUTH_KEYCLOAK_SECRET":  "web_app_secret",
		"AUTH_DATA_DIR":         t.TempDir(),
		"AUTH_CLEANUP_INTERVAL": "0",
		"AUTH_MIGRATE_ON_START": "true",
		"AUTH_URL":              f.Origin + "/api/auth",
		"BACKEND_API_URL":       up.srv.URL,
	}
	bff := startBFF(t, vars)
	f.serve(t, bff)
	atKeycloak := func(u string) bool { return strings.HasPrefix(u, issuer+"/") }
	runScenario(t, f, up, idp{
		name: "Keycloak",
		at:   atKeycloak,
		login: func(b *browser, user string, done func(string) bool) (string, time.Duration) {
			b.t.Helper()
			start := time.Now()
			// Keycloak's login may take more than one page (username, then
			// password); each must be Keycloak's login form, never a silent
			// SSO redirect.
			for range 3 {
				form := eval[bool](b, `!!document.getElementById("kc-form-login")`)
				require.True(b.t, form, "Keycloak's login form is shown at %s", eval[string](b, "location.href"))
				b.check("Keycloak login page")
				at, _ := b.leave("Keycloak login", `
					for (const [id, v] of [["username", `+js(user)+`], ["password", `+js(user)+`]]) {
						const el = document.getElementById(id);
						if (el) el.value = v;
					}
					document.getElementById("kc-form-login").requestSubmit()`,
					func(u string) bool { return done(u) || atKeycloak(u) })
				if done(at) {
					return at, time.Since(start)
				}
			}
			b.t.Fatal("Keycloak's login did not finish")
			return "", 0
		},
	}, "bob", "bob@example.com", browserOpts...)
}
