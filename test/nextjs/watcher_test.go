package nextjs

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// TestWatcherSeesProblems keeps the example test honest: the watcher it
// relies on does report a console error, an uncaught exception and a CSP
// violation in this Chromium.
func TestWatcherSeesProblems(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	chromium := tool(t, "/usr/bin/chromium", "chromium", "chromium-browser")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'")
		_, _ = w.Write([]byte(`<!DOCTYPE html><title>t</title><body><p id="done">x</p>
<script>console.error("boom"); fetch("/elsewhere").catch(() => {}); setTimeout(() => { throw new Error("thrown") });</script>`))
	}))
	defer srv.Close()

	bctx, p := newBrowser(t, chromium, filepath.Join(t.TempDir(), "chromium"))
	ctx, cancel := context.WithTimeout(bctx, time.Minute)
	defer cancel()
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#done"))))
	// One entry per source: the console, the exception event and the
	// violation binding.
	want := []string{"console.error: boom", "exception: Uncaught Error: thrown", "CSP violation: connect-src blocked " + srv.URL + "/elsewhere"}
	require.Eventually(t, func() bool {
		all := strings.Join(p.All(), "\n")
		for _, w := range want {
			if !strings.Contains(all, w) {
				return false
			}
		}
		return true
	}, 20*time.Second, 50*time.Millisecond, "the watcher reports %q", want)
	t.Logf("watcher saw: %q", p.All())
}
