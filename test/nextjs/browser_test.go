package nextjs

import (
	"context"
	"encoding/json"
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
// so the watcher sees each CSP violation whatever Chromium logs by itself
// and whatever the page does with its console.
const reportViolation = "authbffReportViolation"

const violationListener = `document.addEventListener("securitypolicyviolation", (e) => {
  window.` + reportViolation + `(JSON.stringify({directive: e.violatedDirective, blocked: e.blockedURI, page: location.href}));
});`

// newBrowser starts headless Chromium with a fresh profile in dir; it stops
// when the test ends. The returned problems record, from the tab's first
// event on, its console errors, uncaught exceptions, error log entries
// (failed loads, CSP reports) and CSP violations.
func newBrowser(t *testing.T, chromium, dir string) (context.Context, *problems) {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(dir),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.WindowSize(1280, 900),
	}
	p := &problems{}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithListener(p.listen))
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	// The first Do starts Chromium: it gets no step timeout, which would
	// end the browser with it.
	start := time.Now()
	require.NoError(t, chromedp.Do(bctx))
	_, err := chromedp.Call(bctx, cdplog.Enable, cdp.Empty{})
	require.NoError(t, err)
	_, err = chromedp.Call(bctx, runtime.AddBinding, runtime.AddBindingParams{Name: reportViolation})
	require.NoError(t, err)
	_, err = chromedp.Call(bctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: violationListener})
	require.NoError(t, err)
	t.Logf("timing: chromium started in %s", time.Since(start).Round(time.Millisecond))
	return bctx, p
}

// problems collects console errors, uncaught exceptions, error log entries
// and CSP violations.
type problems struct {
	mu   sync.Mutex
	list []string
}

func (p *problems) add(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.list = append(p.list, s)
}

func (p *problems) all() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.list...)
}

// listen runs in the tab's event loop (chromedp.WithListener): it must
// return fast and send no command.
func (p *problems) listen(ev any) {
	switch e := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
			var parts []string
			for _, a := range e.Args {
				parts = append(parts, strings.Trim(string(a.Value), `"`)+a.Description)
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
			p.add("log " + string(e.Entry.Source) + ": " + e.Entry.Text + " " + e.Entry.URL)
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
