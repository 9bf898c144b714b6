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

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
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
		p := runBrowser(t, chromium, t.TempDir(), origin, backend, "Bob User", chromedp.Steps(
			chromedp.WaitVisible(chromedp.CSS("#login-bob")),
			chromedp.Click(chromedp.CSS("#login-bob")),
		))
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
func keycloakLogin(username, password string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		run := func(steps ...chromedp.Action[chromedp.Void]) error {
			_, err := chromedp.Steps(steps...)(ctx, t)
			return err
		}
		if err := run(
			chromedp.WaitVisible(chromedp.CSS("#username")),
			chromedp.SendKeys(chromedp.CSS("#username"), username),
		); err != nil {
			return err
		}
		both, err := chromedp.Evaluate[bool](`!!document.querySelector("#password")`)(ctx, t)
		if err != nil {
			return err
		}
		if !both {
			if err := run(
				chromedp.Click(chromedp.CSS("#kc-login")),
				chromedp.WaitVisible(chromedp.CSS("#password")),
			); err != nil {
				return err
			}
		}
		return run(
			chromedp.SendKeys(chromedp.CSS("#password"), password),
			chromedp.Click(chromedp.CSS("#kc-login")),
		)
	})
}

// runBrowser signs bob in through the app (idpLogin does the IdP's part),
// switches organization, calls the API and signs out, and returns the
// browser's problems.
func runBrowser(t *testing.T, chromium, work, origin string, backend *recorder, wantName string, idpLogin chromedp.Action[chromedp.Void]) []string {
	bctx, p := newBrowser(t, chromium, filepath.Join(work, "chromium"))
	ctx, cancel := context.WithTimeout(bctx, 3*time.Minute)
	defer cancel()

	// text stores the innerText of the first element matching sel in out.
	text := func(sel string, out *string) chromedp.Action[chromedp.Void] {
		return assign(chromedp.Text(chromedp.CSS(sel)), out)
	}
	waitText := func(sel, want string) chromedp.Action[chromedp.Void] {
		return discard(chromedp.Poll[bool](fmt.Sprintf(`document.querySelector(%q)?.textContent === %q`, sel, want),
			chromedp.WithPollingInterval(50*time.Millisecond)))
	}

	// Sign in: the app's signIn("keycloak"), the IdP's login page, back to
	// the app.
	var name, email, roles, active, hasUser, isAdmin string
	var orgCount int
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(origin+"/"),
		chromedp.WaitVisible(chromedp.CSS("#sign-in")),
		chromedp.Click(chromedp.CSS("#sign-in")),
		idpLogin,
		chromedp.WaitVisible(chromedp.CSS("#user-name")),
		waitText("#is-admin", "false"),
		text("#user-name", &name), text("#user-email", &email), text("#user-roles", &roles),
		text("#active-org", &active), text("#has-user", &hasUser), text("#is-admin", &isAdmin),
		assign(chromedp.Evaluate[int](`document.querySelectorAll("#organizations li").length`), &orgCount),
	), "sign-in; problems so far: %v", p.All())
	require.Equal(t, wantName, name)
	require.Equal(t, "bob@example.com", email)
	require.Contains(t, roles, "user")
	require.Equal(t, "true", hasUser, "hasRole from the session's user.roles")
	require.Equal(t, "false", isAdmin, "tokenService.hasRole('admin')")
	require.Equal(t, 2, orgCount, "bob's two organizations")
	require.Equal(t, "acme", active)

	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	require.Equal(t, origin+"/", loc, "back on the app after sign-in")

	// Switch organization: update({organizationId}).
	var session struct {
		ActiveOrganization struct{ ID, Alias, TenantID string } `json:"activeOrganization"`
	}
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#switch-globex")),
		waitText("#active-org", "globex"),
		chromedp.WaitVisible(chromedp.CSS("#switch-acme")),
		fetchJSON(`fetch("/api/auth/session").then((r) => r.json())`, &session),
	), "switch organization; problems so far: %v", p.All())
	require.Equal(t, "globex", session.ActiveOrganization.Alias)
	require.NotEmpty(t, session.ActiveOrganization.ID)

	// Call the API through /api/proxy: the backend sees the bearer token and
	// the active organization's tenant headers.
	var result, tokenStatus string
	var token struct {
		AccessToken string `json:"accessToken"`
	}
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#call-api")),
		discard(chromedp.Poll[bool](`document.querySelector("#api-result").textContent !== ""`, chromedp.WithPollingInterval(50*time.Millisecond))),
		text("#api-result", &result),
		chromedp.Click(chromedp.CSS("#get-token")),
		waitText("#token-status", "access token received"),
		text("#token-status", &tokenStatus),
		fetchJSON(`fetch("/api/auth/token", {headers: {"X-CSRF": "1"}}).then((r) => r.json())`, &token),
	), "API call; problems so far: %v", p.All())
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
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#sign-out")),
		chromedp.WaitVisible(chromedp.CSS("#sign-in")),
		assign(chromedp.Location(), &loc),
		fetchJSON(`fetch("/api/auth/session").then((r) => r.json())`, &after),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			cs, err := getCookies(ctx, t)
			cookies = cs
			return err
		}),
	), "sign-out; problems so far: %v", p.All())
	require.Equal(t, origin+"/", loc)
	require.JSONEq(t, "null", string(after))
	require.NotContains(t, strings.Join(cookies, " "), "authjs.session-token", "the session cookie is gone")
	return p.All()
}

// assign turns an action that returns a value into a step of chromedp.Do
// that stores the value in out.
func assign[T any](a chromedp.Action[T], out *T) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		v, err := a(ctx, t)
		if err == nil {
			*out = v
		}
		return err
	})
}

// discard turns an action that returns a value into a step of chromedp.Do.
func discard[T any](a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := a(ctx, t)
		return err
	})
}

// fetchJSON evaluates js, awaiting its promise, into out.
func fetchJSON[T any](js string, out *T) chromedp.Action[chromedp.Void] {
	return assign(chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise), out)
}

// getCookies lists the names of the browser's cookies for the current page.
func getCookies(ctx context.Context, t *chromedp.Target) ([]string, error) {
	res, err := cdp.Call(ctx, t, network.GetCookies, network.GetCookiesParams{})
	names := make([]string, 0, len(res.Cookies))
	for _, c := range res.Cookies {
		names = append(names, c.Name)
	}
	return names, err
}
