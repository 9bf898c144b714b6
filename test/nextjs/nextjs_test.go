// Package nextjs drives examples/nextjs, the Next.js 15 app in front of
// authbff, in headless Chromium: `npm ci`, `next build`, `next start` on a
// loopback port with its /api/auth and /api/proxy rewritten to an authbff
// process (nothing configured: SQLite and the embedded development IdP) and
// a recording backend. Skipped in -short mode and where node, npm or
// chromium is missing, except under CI=true where that is a failure.
package nextjs

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// recorder is the backend API: it records each request's path and the
// headers authbff's proxy sets, and answers a fixed user list.
type recorder struct {
	mu   sync.Mutex
	seen []http.Header
	path []string
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.seen = append(r.seen, req.Header.Clone())
	r.path = append(r.path, req.URL.Path)
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`[{"id":1,"name":"Ada Lovelace"}]`))
}

func (r *recorder) last() (string, http.Header) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.seen) == 0 {
		return "", nil
	}
	return r.path[len(r.path)-1], r.seen[len(r.seen)-1]
}

func TestExampleInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("the Next.js example test builds the app and runs a browser: skipped in -short mode")
	}
	tool(t, "node", "nodejs")
	npm := tool(t, "npm")
	chromium := tool(t, "/usr/bin/chromium", "chromium", "chromium-browser")
	goBin := tool(t, "go")

	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	work := t.TempDir()
	app := filepath.Join(work, "app")
	copyTree(t, filepath.Join(root, "examples", "nextjs"), app)

	// next build resolves the rewrites, so authbff's address is fixed
	// here; each IdP's run starts its own authbff there.
	bffAddr := freeLoopbackAddr(t)
	backend := &recorder{}
	api := httptest.NewServer(backend)
	t.Cleanup(api.Close)

	// Build authbff and the app; print what each step took.
	bin := filepath.Join(work, "authbff")
	d := runStep(t, 10*time.Minute, root, os.Environ(), goBin, "build", "-o", bin, "./cmd/authbff")
	t.Logf("timing: go build authbff %s", d.Round(100*time.Millisecond))
	nodeEnv := childEnv(map[string]string{"NEXT_TELEMETRY_DISABLED": "1", "AUTHBFF_URL": "http://" + bffAddr})
	d = runStep(t, 10*time.Minute, app, nodeEnv, npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
	t.Logf("timing: npm ci %s", d.Round(100*time.Millisecond))
	next := filepath.Join(app, "node_modules", ".bin", "next")
	d = runStep(t, 10*time.Minute, app, nodeEnv, next, "build")
	t.Logf("timing: next build %s", d.Round(100*time.Millisecond))

	// serve starts authbff (public URL on the app's origin, the backend
	// behind /api/proxy, plus idpVars) and next start in front of it, and
	// returns the app's origin and authbff's logs.
	serve := func(t *testing.T, idpVars map[string]string) (string, *syncBuffer) {
		nextAddr := freeLoopbackAddr(t)
		origin := "http://" + nextAddr
		bffDir := t.TempDir()
		vars := map[string]string{
			"AUTH_ENV":        "development",
			"AUTH_URL":        origin + "/api/auth",
			"LISTEN_ADDR":     bffAddr,
			"AUTH_DATA_DIR":   filepath.Join(bffDir, "data"),
			"BACKEND_API_URL": api.URL,
		}
		for k, v := range idpVars {
			vars[k] = v
		}
		bffLogs := startProcess(t, bffDir, childEnv(vars), bin, "serve")
		waitHTTP(t, "http://"+bffAddr+"/readyz", 60*time.Second, bffLogs)
		host, port, _ := strings.Cut(nextAddr, ":")
		nextLogs := startProcess(t, app, nodeEnv, next, "start", "--hostname", host, "--port", port)
		waitHTTP(t, origin+"/", 60*time.Second, nextLogs)
		return origin, bffLogs
	}

	t.Run("devidp", func(t *testing.T) {
		// Nothing configured: SQLite and the embedded development IdP, whose
		// login page lists the demo users.
		origin, bffLogs := serve(t, nil)
		start := time.Now()
		p := runBrowser(t, chromium, t.TempDir(), origin, backend, "Bob User", chromedp.Tasks{
			chromedp.WaitVisible("#login-bob", chromedp.ByQuery),
			chromedp.Click("#login-bob", chromedp.ByQuery),
		})
		t.Logf("timing: browser run (dev IdP) %s", time.Since(start).Round(10*time.Millisecond))
		require.Empty(t, p, "console errors, exceptions or CSP violations in the browser")
		require.NotContains(t, bffLogs.String(), "id_token_hint", "tokens never reach the logs")
	})

	t.Run("keycloak", func(t *testing.T) {
		issuer := os.Getenv("TEST_KEYCLOAK_ISSUER")
		if issuer == "" {
			if os.Getenv("CI") == "true" {
				t.Fatal("TEST_KEYCLOAK_ISSUER is not set under CI=true: run the tests with `make test`")
			}
			t.Skip("TEST_KEYCLOAK_ISSUER not set: run `make test` to start Keycloak")
		}
		// The test realm's client accepts any loopback port
		// (http://127.0.0.1/api/auth/callback/keycloak).
		origin, bffLogs := serve(t, map[string]string{
			"AUTH_KEYCLOAK_ISSUER": issuer,
			"AUTH_KEYCLOAK_ID":     "web_app",
			"AUTH_KEYCLOAK_SECRET": "web_app_secret",
		})
		start := time.Now()
		p := runBrowser(t, chromium, t.TempDir(), origin, backend, "Bob Brown", keycloakLogin("bob", "bob"))
		t.Logf("timing: browser run (Keycloak) %s", time.Since(start).Round(10*time.Millisecond))
		require.Empty(t, p, "console errors, exceptions or CSP violations in the browser")
		require.NotContains(t, bffLogs.String(), "id_token_hint", "tokens never reach the logs")
	})
}

// keycloakLogin fills Keycloak's login pages: identity-first (username, then
// password) as the organizations feature makes it, or both on one page.
func keycloakLogin(username, password string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		if err := chromedp.Run(ctx,
			chromedp.WaitVisible("#username", chromedp.ByQuery),
			chromedp.SendKeys("#username", username, chromedp.ByQuery),
		); err != nil {
			return err
		}
		var both bool
		if err := chromedp.Run(ctx, chromedp.Evaluate(`!!document.querySelector("#password")`, &both)); err != nil {
			return err
		}
		if !both {
			if err := chromedp.Run(ctx,
				chromedp.Click("#kc-login", chromedp.ByQuery),
				chromedp.WaitVisible("#password", chromedp.ByQuery),
			); err != nil {
				return err
			}
		}
		return chromedp.Run(ctx,
			chromedp.SendKeys("#password", password, chromedp.ByQuery),
			chromedp.Click("#kc-login", chromedp.ByQuery),
		)
	})
}

// runBrowser signs bob in through the app (idpLogin does the IdP's part),
// switches organization, calls the API and signs out, and returns the
// browser's problems.
func runBrowser(t *testing.T, chromium, work, origin string, backend *recorder, wantName string, idpLogin chromedp.Action) []string {
	bctx := newBrowser(t, chromium, filepath.Join(work, "chromium"))
	ctx, cancel := context.WithTimeout(bctx, 3*time.Minute)
	defer cancel()
	p := watchProblems(bctx)

	text := func(sel string, out *string) chromedp.Action { return chromedp.Text(sel, out, chromedp.ByQuery) }
	waitText := func(sel, want string) chromedp.Action {
		return chromedp.Poll(fmt.Sprintf(`document.querySelector(%q)?.textContent === %q`, sel, want), nil,
			chromedp.WithPollingInterval(50*time.Millisecond))
	}
	fetchJSON := func(js string, out any) chromedp.Action {
		return chromedp.Evaluate(js, out, func(p *runtime.EvaluateParams) *runtime.EvaluateParams {
			return p.WithAwaitPromise(true)
		})
	}

	// Sign in: the app's signIn("keycloak"), the IdP's login page, back to
	// the app.
	var name, email, roles, active, hasUser, isAdmin string
	var orgCount int
	require.NoError(t, chromedp.Run(ctx,
		installCSPReporter(),
		chromedp.Navigate(origin+"/"),
		chromedp.WaitVisible("#sign-in", chromedp.ByQuery),
		chromedp.Click("#sign-in", chromedp.ByQuery),
		idpLogin,
		chromedp.WaitVisible("#user-name", chromedp.ByQuery),
		waitText("#is-admin", "false"),
		text("#user-name", &name), text("#user-email", &email), text("#user-roles", &roles),
		text("#active-org", &active), text("#has-user", &hasUser), text("#is-admin", &isAdmin),
		chromedp.Evaluate(`document.querySelectorAll("#organizations li").length`, &orgCount),
	), "sign-in; problems so far: %v", p.all())
	require.Equal(t, wantName, name)
	require.Equal(t, "bob@example.com", email)
	require.Contains(t, roles, "user")
	require.Equal(t, "true", hasUser, "hasRole from the session's user.roles")
	require.Equal(t, "false", isAdmin, "tokenService.hasRole('admin')")
	require.Equal(t, 2, orgCount, "bob's two organizations")
	require.Equal(t, "acme", active)

	var loc string
	require.NoError(t, chromedp.Run(ctx, chromedp.Location(&loc)))
	require.Equal(t, origin+"/", loc, "back on the app after sign-in")

	// Switch organization: update({organizationId}).
	var session struct {
		ActiveOrganization struct{ ID, Alias, TenantID string } `json:"activeOrganization"`
	}
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Click("#switch-globex", chromedp.ByQuery),
		waitText("#active-org", "globex"),
		chromedp.WaitVisible("#switch-acme", chromedp.ByQuery),
		fetchJSON(`fetch("/api/auth/session").then((r) => r.json())`, &session),
	), "switch organization; problems so far: %v", p.all())
	require.Equal(t, "globex", session.ActiveOrganization.Alias)
	require.NotEmpty(t, session.ActiveOrganization.ID)

	// Call the API through /api/proxy: the backend sees the bearer token and
	// the active organization's tenant headers.
	var result, tokenStatus string
	var token struct {
		AccessToken string `json:"accessToken"`
	}
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Click("#call-api", chromedp.ByQuery),
		chromedp.Poll(`document.querySelector("#api-result").textContent !== ""`, nil, chromedp.WithPollingInterval(50*time.Millisecond)),
		text("#api-result", &result),
		chromedp.Click("#get-token", chromedp.ByQuery),
		waitText("#token-status", "access token received"),
		text("#token-status", &tokenStatus),
		fetchJSON(`fetch("/api/auth/token", {headers: {"X-CSRF": "1"}}).then((r) => r.json())`, &token),
	), "API call; problems so far: %v", p.all())
	require.JSONEq(t, `[{"id":1,"name":"Ada Lovelace"}]`, result)
	path, h := backend.last()
	require.Equal(t, "/users", path)
	require.NotEmpty(t, token.AccessToken)
	require.Equal(t, []string{"Bearer " + token.AccessToken}, h.Values("Authorization"), "exactly one bearer: the session's access token")
	require.Equal(t, "globex", h.Get("X-Tenant-ID"), "globex has no tenant_id attribute: its alias")
	require.Equal(t, session.ActiveOrganization.TenantID, h.Get("X-Tenant-ID"))
	require.Equal(t, session.ActiveOrganization.ID, h.Get("X-Organization-ID"))
	require.Empty(t, h.Get("Cookie"), "authbff's cookies stay out of the backend")

	// Sign out: signOut() goes to the IdP's end-session URL, which sends the
	// browser back to the app, signed out.
	var after json.RawMessage
	var cookies []string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Click("#sign-out", chromedp.ByQuery),
		chromedp.WaitVisible("#sign-in", chromedp.ByQuery),
		chromedp.Location(&loc),
		fetchJSON(`fetch("/api/auth/session").then((r) => r.json())`, &after),
		chromedp.ActionFunc(func(ctx context.Context) error {
			cs, err := getCookies(ctx)
			cookies = cs
			return err
		}),
	), "sign-out; problems so far: %v", p.all())
	require.Equal(t, origin+"/", loc)
	require.JSONEq(t, "null", string(after))
	require.NotContains(t, strings.Join(cookies, " "), "authjs.session-token", "the session cookie is gone")
	return p.all()
}

// getCookies lists the names of the browser's cookies for the current page.
func getCookies(ctx context.Context) ([]string, error) {
	cs, err := network.GetCookies().Do(ctx)
	names := make([]string, 0, len(cs))
	for _, c := range cs {
		names = append(names, c.Name)
	}
	return names, err
}
