package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// reportViolation is the binding every page calls from its
// securitypolicyviolation listener (installed before any page script runs),
// so each CSP violation is seen whatever Chromium logs by itself and
// whatever the page does with its console.
const reportViolation = "authbffReportViolation"

const violationListener = `document.addEventListener("securitypolicyviolation", (e) => {
  window.` + reportViolation + `(JSON.stringify({directive: e.violatedDirective, blocked: e.blockedURI, page: location.href}));
});`

// StartChromium starts headless Chromium (execPath) with a fresh profile
// in profileDir and extra options; it stops when the test ends. The
// returned problems record, from the tab's first event on, its console
// errors, uncaught exceptions, error log entries (failed loads, CSP
// reports) and CSP violations. The context is the tab's: give each step a
// timeout derived from it.
func StartChromium(t *testing.T, execPath, profileDir string, extra ...chromedp.ExecAllocatorOption) (context.Context, *PageProblems) {
	t.Helper()
	opts := append([]chromedp.ExecAllocatorOption{
		chromedp.ExecPath(execPath),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(profileDir),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.WindowSize(1280, 900),
	}, extra...)
	p := &PageProblems{}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithListener(p.listen))
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	// The first Do starts Chromium; it gets no step timeout, which would
	// end the browser with it.
	start := time.Now()
	require.NoError(t, chromedp.Do(ctx))
	_, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{})
	require.NoError(t, err)
	_, err = chromedp.Call(ctx, runtime.AddBinding, runtime.AddBindingParams{Name: reportViolation})
	require.NoError(t, err)
	_, err = chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: violationListener})
	require.NoError(t, err)
	t.Logf("timing: chromium started in %s", time.Since(start).Round(time.Millisecond))
	return ctx, p
}

// PageProblems collects what a page should never show: console errors,
// uncaught exceptions, error log entries and CSP violations.
type PageProblems struct {
	mu   sync.Mutex
	list []string
}

// All returns everything recorded so far.
func (p *PageProblems) All() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.list...)
}

// Take returns everything recorded since the last Take and forgets it.
func (p *PageProblems) Take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	list := p.list
	p.list = nil
	return list
}

func (p *PageProblems) add(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.list = append(p.list, s)
}

// listen runs in the tab's event loop (chromedp.WithListener): it must
// return fast and send no command. An error log entry reads "console error
// (<source>) at <url>: <text>", the form Chromium's own console prints.
func (p *PageProblems) listen(ev any) {
	switch e := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
			var parts []string
			for _, a := range e.Args {
				parts = append(parts, strings.TrimSpace(strings.Trim(string(a.Value), `"`)+" "+a.Description))
			}
			p.add("console." + string(e.Type) + ": " + strings.Join(parts, " "))
		}
	case *runtime.EventExceptionThrown:
		msg := e.ExceptionDetails.Text
		if e.ExceptionDetails.Exception != nil {
			msg += " " + e.ExceptionDetails.Exception.Description
		}
		p.add("exception: " + msg)
	case *cdplog.EventEntryAdded:
		if e.Entry.Level == cdplog.EntryLevelError {
			p.add(fmt.Sprintf("console error (%s) at %s: %s", e.Entry.Source, e.Entry.URL, e.Entry.Text))
		}
	case *runtime.EventBindingCalled:
		if e.Name == reportViolation {
			var v struct{ Directive, Blocked, Page string }
			if err := json.Unmarshal([]byte(e.Payload), &v); err != nil {
				p.add("CSP violation (unreadable report): " + e.Payload)
				return
			}
			p.add("CSP violation: " + v.Directive + " blocked " + v.Blocked + " on " + v.Page)
		}
	}
}
