package httpapi_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// chromium runs headless Chromium on target and returns the DOM after the
// page's fetches settled (virtual time). Every host but the loopback
// address fails to resolve, so a page can never reach the network.
func chromium(t *testing.T, target string) string {
	t.Helper()
	bin := "/usr/bin/chromium"
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chromium is required under CI=true: %v", err)
		}
		t.Skipf("chromium not installed (%v)", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
		"--virtual-time-budget=10000", "--dump-dom", target)
	out, err := cmd.Output()
	require.NoError(t, err, "chromium: %s", out)
	return string(out)
}

// TestBrowserCrossOriginPostIsRefused drives a real browser. The signed-in
// browser visits a page on another origin of the same site (another port of
// 127.0.0.1: SameSite=Lax cookies ARE sent from there), which posts a
// sign-out with the valid CSRF token. Chromium marks it Sec-Fetch-Site:
// same-site with that page's Origin, and the guard refuses it: the session
// row is still there. The same post from a page on the app's origin signs
// out, so the refusal is the guard's, not a broken test.
func TestBrowserCrossOriginPostIsRefused(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, st edgeStores) {
		type seen struct {
			status               int
			origin, fetchSite    string
			sessionCookiePresent bool
		}
		var mu sync.Mutex
		var posts []seen
		var session, csrfCookie, csrfTok string
		record := func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/__login": // plants the Go client's cookies in the browser
					mu.Lock()
					defer mu.Unlock()
					http.SetCookie(w, &http.Cookie{Name: "authjs.session-token", Value: session, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
					http.SetCookie(w, &http.Cookie{Name: "authjs.csrf-token", Value: csrfCookie, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
					http.Redirect(w, r, r.URL.Query().Get("next"), http.StatusFound)
					return
				case "/__page":
					mu.Lock()
					defer mu.Unlock()
					w.Header().Set("Content-Type", "text/html")
					_, _ = fmt.Fprint(w, signOutPage(r.URL.Query().Get("target"), csrfTok, "same-origin"))
					return
				}
				rec := httptest.NewRecorder()
				next.ServeHTTP(rec, r)
				if r.Method == http.MethodPost && r.URL.Path == "/api/auth/signout" {
					_, err := r.Cookie("authjs.session-token")
					mu.Lock()
					posts = append(posts, seen{rec.Code, r.Header.Get("Origin"), r.Header.Get("Sec-Fetch-Site"), err == nil})
					mu.Unlock()
				}
				for k, v := range rec.Header() {
					w.Header()[k] = v
				}
				w.WriteHeader(rec.Code)
				_, _ = w.Write(rec.Body.Bytes())
			})
		}
		a, _ := newEdgeApp(t, st, "", edgeOption{wrap: record})
		c := signIn(t, a, alice)
		tok := csrfToken(t, c, a)
		u, _ := url.Parse(a.srv.URL)
		mu.Lock()
		csrfTok, session = tok, sessionCookie(c, a)
		for _, ck := range c.Jar.Cookies(u) {
			if ck.Name == "authjs.csrf-token" {
				csrfCookie = ck.Value
			}
		}
		require.NotEmpty(t, csrfCookie)
		mu.Unlock()
		rows := func() int { return st.count(t, "SELECT count(*) FROM sessions") }
		require.Equal(t, 1, rows())

		// The attacker's page: same host, another port.
		evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = fmt.Fprint(w, signOutPage(a.url("/api/auth/signout"), tok, "no-cors"))
		}))
		defer evil.Close()
		dom := chromium(t, a.url("/__login?next="+url.QueryEscape(evil.URL+"/")))
		require.Contains(t, dom, "done")
		mu.Lock()
		require.Len(t, posts, 1, "the browser posted once: %s", dom)
		attack := posts[0]
		mu.Unlock()
		require.True(t, attack.sessionCookiePresent, "the same-site post carried the session cookie (SameSite=Lax does not stop it)")
		require.Equal(t, evil.URL, attack.origin)
		require.Equal(t, "same-site", attack.fetchSite)
		require.Equal(t, http.StatusForbidden, attack.status)
		require.Equal(t, 1, rows(), "the session survived the cross-origin sign-out")

		// Control: the same post from the app's own origin signs out.
		dom = chromium(t, a.url("/__login?next="+url.QueryEscape("/__page?target="+url.QueryEscape(a.url("/api/auth/signout")))))
		require.Contains(t, dom, "done")
		mu.Lock()
		require.Len(t, posts, 2)
		own := posts[1]
		mu.Unlock()
		require.Equal(t, "same-origin", own.fetchSite)
		require.Equal(t, a.srv.URL, own.origin)
		require.Equal(t, http.StatusOK, own.status)
		require.Equal(t, 0, rows(), "the same-origin sign-out deleted the session")
		t.Logf("Chromium: same-site page %s → POST /signout with the session cookie and a valid token, Sec-Fetch-Site %q → %d, sessions 1 → 1; app page → Sec-Fetch-Site %q → %d, sessions 1 → 0",
			attack.origin, attack.fetchSite, attack.status, own.fetchSite, own.status)
	})
}

// signOutPage posts a sign-out to target with fetch and then writes "done".
// mode is "no-cors" from another origin (a simple request: no preflight, the
// cookies go along) and "same-origin" from the app. A fetch never navigates
// the page, and the host resolver rules keep any redirect off the network.
func signOutPage(target, token, mode string) string {
	return `<!doctype html><html><body><p id="r">waiting</p><script>
fetch(` + "`" + html.EscapeString(target) + "`" + `, {method: "POST", mode: "` + mode + `", credentials: "include",
  headers: {"Content-Type": "application/x-www-form-urlencoded", "X-Auth-Return-Redirect": "1"},
  body: "csrfToken=` + html.EscapeString(token) + `"})
  .then(() => { document.getElementById("r").textContent = "done"; },
        (e) => { document.getElementById("r").textContent = "done with error " + e; });
</script></body></html>`
}
