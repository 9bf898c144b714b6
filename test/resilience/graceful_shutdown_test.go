package resilience

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/test/fakeop"
)

// TestGracefulShutdownUnderLoad is docs/security.md R12: authbff gets
// SIGTERM while 20 browsers keep it busy (a few hundred requests a second):
// session reads, proxied calls to a backend that takes 300 ms, and access
// token reads whose refresh takes the IdP 400 ms. Every request that
// reached authbff before the signal is answered 200 (none is cut off or
// reset), the process exits with status 0, and no in-flight refresh leaves
// a half-written session: started again on the same database, every
// session still reads and still hands out an access token.
func TestGracefulShutdownUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("runs authbff as a process under load")
	}
	op := fakeop.New(t)
	// Access tokens live 10 s, inside authbff's refresh window: every token
	// read refreshes, so refreshes are in flight when the signal comes.
	op.ServeLogins(10*time.Second, 10*time.Second)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(300 * time.Millisecond)
		_, _ = w.Write([]byte("pong"))
	}))
	t.Cleanup(backend.Close)
	bin := buildAuthbff(t)
	data := t.TempDir()
	env := map[string]string{"BACKEND_API_URL": backend.URL, "AUTH_DATA_DIR": data}
	p := startAuthbff(t, bin, op, env)

	const browsers = 20
	cookies := make([]string, browsers)
	for i := range cookies {
		cookies[i] = "authjs.session-token=" + signInAs(t, p, fmt.Sprintf("shutdown-%02d", i))
	}
	op.SetFault(fakeop.Slow, 400*time.Millisecond) // refreshes are in flight for a while

	type result struct {
		kind       string
		start, end time.Time
		status     int
		err        error
	}
	var mu sync.Mutex
	var results []result
	stop := make(chan struct{})
	var wg sync.WaitGroup
	// Each browser keeps to one kind of request, so that every kind is in
	// flight at any moment: 8 read their session, 6 call the backend, 6 read
	// their access token.
	paths := []string{"/api/auth/session", "/api/proxy/ping", "/api/auth/token"}
	for w := range browsers {
		path := paths[min(w/8+w/14, 2)] // 0-7 session, 8-13 proxy, 14-19 token
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 30 * time.Second}
			for {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest(http.MethodGet, p.Base+path, nil)
				req.Header.Set("Cookie", cookies[w])
				req.Header.Set("X-CSRF", "1")
				r := result{kind: path, start: time.Now()}
				resp, err := client.Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					r.status = resp.StatusCode
				}
				r.end, r.err = time.Now(), err
				mu.Lock()
				results = append(results, r)
				mu.Unlock()
				if err != nil {
					return // the server is gone
				}
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	time.Sleep(2 * time.Second)
	signalled := time.Now()
	require.NoError(t, syscall.Kill(p.PID, syscall.SIGTERM))
	select {
	case <-p.Exited:
	case <-time.After(60 * time.Second):
		t.Fatal("authbff did not exit within 60 s of SIGTERM")
	}
	exited := time.Now()
	close(stop)
	wg.Wait()
	require.NoError(t, p.ExitErr, "exit status 0")

	// A request is in flight at the signal when authbff had it by then; one
	// sent in the last 100 ms before the signal may not have arrived yet,
	// and may meet the closed listener.
	counts, inFlightBy := map[string]int{}, map[string]int{}
	inFlight, longest := 0, time.Duration(0)
	for _, r := range results {
		outcome := fmt.Sprint(r.status)
		if r.err != nil {
			outcome = "error"
		}
		counts[r.kind+" "+outcome]++
		if r.start.Before(signalled.Add(-100 * time.Millisecond)) {
			require.NoError(t, r.err, "%s sent %s before the signal", r.kind, signalled.Sub(r.start))
			require.Equal(t, http.StatusOK, r.status, "%s sent %s before the signal", r.kind, signalled.Sub(r.start))
			if r.end.After(signalled) {
				inFlight++
				inFlightBy[r.kind]++
				longest = max(longest, r.end.Sub(signalled))
			}
		} else if r.err == nil {
			require.Less(t, r.status, 500, "%s after the signal", r.kind)
		}
	}
	var lines []string
	for k, n := range counts {
		lines = append(lines, fmt.Sprintf("%s x%d", k, n))
	}
	sort.Strings(lines)
	first, last := results[0].start, results[0].end
	for _, r := range results {
		first, last = minTime(first, r.start), maxTime(last, r.end)
	}
	t.Logf("%d requests (%.0f/s); %d in flight at SIGTERM (%v), all answered 200, the last %s after it; exit 0 %s "+
		"after the signal; %s", len(results), float64(len(results))/last.Sub(first).Seconds(), inFlight, inFlightBy,
		longest.Round(time.Millisecond), exited.Sub(signalled).Round(time.Millisecond), strings.Join(lines, ", "))
	require.Positive(t, inFlightBy["/api/proxy/ping"], "proxied calls were in flight at the signal")
	require.Positive(t, inFlightBy["/api/auth/token"], "token reads (refreshing) were in flight at the signal")
	p.requireCleanLogs(t)

	// Started again on the same database: every session reads, and every
	// one hands out an access token (a refresh cut in half would have left
	// tokens the IdP no longer honours).
	op.SetFault(fakeop.None, 0)
	again := startAuthbff(t, bin, op, map[string]string{"BACKEND_API_URL": backend.URL, "AUTH_DATA_DIR": data})
	for i, ck := range cookies {
		for _, path := range []string{"/api/auth/session", "/api/auth/token"} {
			req, _ := http.NewRequest(http.MethodGet, again.Base+path, nil)
			req.Header.Set("Cookie", ck)
			req.Header.Set("X-CSRF", "1")
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode, "browser %d %s after the restart: %s", i, path, body)
			require.NotEqual(t, "null", string(body), "browser %d %s after the restart", i, path)
		}
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
