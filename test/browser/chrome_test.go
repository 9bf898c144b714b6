package browser

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/authbff/authbff/test/testenv"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// stepTimeout bounds every browser step (a navigation, a click and the
// redirects it starts, a script call).
const stepTimeout = 45 * time.Second

// browser is one headless Chromium with a fresh profile. It records every
// console error, uncaught exception, error log entry and CSP violation of
// every page it shows; check fails the test on any.
type browser struct {
	t        *testing.T
	ctx      context.Context //nolint:containedctx // the tab's context: every step derives its timeout from it
	problems *testenv.PageProblems
}

func requireBrowser(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("browser tests skipped in -short mode")
	}
	if skipWhy != "" {
		t.Skip(skipWhy)
	}
}

// newBrowser starts Chromium with the suite's flags plus extra (the HTTPS
// test trusts its certificate with one).
func newBrowser(t *testing.T, extra ...chromedp.ExecAllocatorOption) *browser {
	t.Helper()
	ctx, problems := testenv.StartChromium(t, chromePath, t.TempDir(), extra...)
	return &browser{t: t, ctx: ctx, problems: problems}
}

// check fails the test on any console error or CSP violation since the
// last check; what names the step.
func (b *browser) check(what string) {
	b.t.Helper()
	b.checkExcept(what, "")
}

// checkExcept is check, except for the one entry Chromium logs for a page
// whose own HTTP status is an error: Auth.js's error page answers 500 for
// Configuration and 403 for AccessDenied and Verification (the contract),
// and Chromium reports any such document as "Failed to load resource". Only
// that exact entry, for that exact URL and status, is let through.
func (b *browser) checkExcept(what, pageURL string, status ...string) {
	b.t.Helper()
	var left []string
	for _, p := range b.problems.Take() {
		if pageURL != "" && len(status) == 1 &&
			p == "console error (network) at "+pageURL+": Failed to load resource: the server responded with a status of "+status[0] {
			continue
		}
		left = append(left, p)
	}
	require.Empty(b.t, left, "%s: console errors or CSP violations", what)
}

// eval evaluates a script expression (awaiting a promise), bounded by
// stepTimeout, and decodes its value into T.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	require.NoError(b.t, err, expr)
	return v
}

// leave starts a navigation with script (a click, a client call that sets
// location.href) and waits until a new document has loaded whose URL
// satisfies done. It returns that URL and how long it took.
func (b *browser) leave(what, script string, done func(url string) bool) (string, time.Duration) {
	b.t.Helper()
	start := time.Now()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	require.NoError(b.t, chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`window.__authbffOld = true; `+script+`; true`)), what)
	return b.waitFor(what, start, done)
}

// open navigates to url and waits until a loaded document satisfies done
// (the page may go on by itself: the sign-in page auto-submits).
func (b *browser) open(url string, done func(url string) bool) (string, time.Duration) {
	b.t.Helper()
	start := time.Now()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	require.NoError(b.t, chromedp.Do(ctx, chromedp.Navigate(url)), "open "+url)
	return b.waitFor("open "+url, start, done)
}

type pageState struct {
	URL   string `json:"url"`
	Ready bool   `json:"ready"`
}

func (b *browser) waitFor(what string, start time.Time, done func(string) bool) (string, time.Duration) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last string
	for {
		// Errors are expected while a navigation replaces the document.
		st, err := chromedp.Run(ctx, chromedp.Evaluate[pageState](
			`({url: location.href, ready: document.readyState === "complete" && window.__authbffOld === undefined})`))
		if err == nil {
			last = st.URL
			if st.Ready && done(st.URL) {
				return st.URL, time.Since(start)
			}
		}
		select {
		case <-ctx.Done():
			body, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 500) : ""`))
			b.t.Fatalf("%s: no matching page within %s; last at %s: %q; problems so far: %v", what, stepTimeout, last, body, b.problems.All())
		case <-tick.C:
		}
	}
}

// text is the innerText of the first element matching the CSS selector,
// or "" when there is none.
func (b *browser) text(selector string) string {
	b.t.Helper()
	sel, _ := json.Marshal(selector)
	return eval[string](b, `(document.querySelector(`+string(sel)+`) || {innerText: ""}).innerText`)
}

func prefix(p string) func(string) bool {
	return func(u string) bool { return strings.HasPrefix(u, p) }
}

func exactly(p string) func(string) bool { return func(u string) bool { return u == p } }
