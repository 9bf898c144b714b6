package nextjs

import (
	"context"
	"testing"

	"github.com/authbff/authbff/test/testenv"
)

// newBrowser starts headless Chromium with a fresh profile in dir; it stops
// when the test ends. The returned problems record every console error,
// uncaught exception, error log entry and CSP violation from the tab's
// first event on.
func newBrowser(t *testing.T, chromium, dir string) (context.Context, *testenv.PageProblems) {
	t.Helper()
	return testenv.StartChromium(t, chromium, dir)
}
