package resilience

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/test/fakeop"
)

// TestFloodOfOversizedInputs is docs/security.md R9 at volume: 10 000
// requests against one authbff process, 50 at a time, each from its own
// loopback address (127.0.0.2 to .51, so the per-client rate limits do not
// stand in for the bounds under test), cycling through: a 1 MB body to the
// back-channel logout endpoint, a logout token of 10^5 segments, a 64 KB
// session cookie, and a 1 MB form to the sign-in endpoint. Every request
// is answered with a 4xx, none with a 5xx or a dropped connection, and the
// process's peak resident memory (VmHWM) stays within 200 MB. The slowest
// answer is printed, not asserted.
func TestFloodOfOversizedInputs(t *testing.T) {
	if testing.Short() {
		t.Skip("10 000 requests against a built binary")
	}
	op := fakeop.New(t)
	p := startAuthbff(t, buildAuthbff(t), op, nil)
	baseline := peakRSS(t, p.PID)

	megabyte := strings.Repeat("a", 1<<20)
	segments := "logout_token=" + strings.Repeat("a.", 100_000)
	cookie := "authjs.session-token=" + strings.Repeat("b", 64<<10)
	type attempt struct {
		name, method, path, contentType, cookie, body string
	}
	attempts := []attempt{
		{"1 MB back-channel body", http.MethodPost, "/api/auth/backchannel-logout", "application/x-www-form-urlencoded", "", "logout_token=" + megabyte},
		{"10^5-segment logout token", http.MethodPost, "/api/auth/backchannel-logout", "application/x-www-form-urlencoded", "", segments},
		{"64 KB session cookie", http.MethodGet, "/api/auth/session", "", cookie, ""},
		{"1 MB sign-in form", http.MethodPost, "/api/auth/signin/keycloak", "application/x-www-form-urlencoded", "", "csrfToken=" + megabyte},
	}

	const total, clients = 10_000, 50
	var mu sync.Mutex
	statuses := map[string]map[int]int{}
	var failures []string
	var slowest time.Duration
	var wg sync.WaitGroup
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+w))}
			client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
				DialContext: (&net.Dialer{LocalAddr: local}).DialContext, DisableCompression: true}}
			defer client.CloseIdleConnections()
			for i := w; i < total; i += clients {
				a := attempts[i%len(attempts)]
				req, err := http.NewRequest(a.method, p.Base+a.path, strings.NewReader(a.body))
				require.NoError(t, err)
				if a.body == "" {
					req.Body = http.NoBody
				}
				if a.contentType != "" {
					req.Header.Set("Content-Type", a.contentType)
				}
				if a.cookie != "" {
					req.Header.Set("Cookie", a.cookie)
				}
				start := time.Now()
				resp, err := client.Do(req)
				took := time.Since(start)
				mu.Lock()
				slowest = max(slowest, took)
				if statuses[a.name] == nil {
					statuses[a.name] = map[int]int{}
				}
				switch {
				case err != nil:
					failures = append(failures, fmt.Sprintf("%s: %v", a.name, err))
				case resp.StatusCode < 400 || resp.StatusCode >= 500:
					failures = append(failures, fmt.Sprintf("%s: %d", a.name, resp.StatusCode))
				}
				if err == nil {
					statuses[a.name][resp.StatusCode]++
				}
				mu.Unlock()
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}()
	}
	wg.Wait()
	peak := peakRSS(t, p.PID)
	var lines []string
	for _, a := range attempts {
		lines = append(lines, a.name+" "+fmtCounts(statuses[a.name]))
	}
	slices.Sort(lines)
	t.Logf("%d requests from %d addresses: %s; slowest answer %s; authbff peak RSS %d MB (%d MB after start-up)",
		total, clients, strings.Join(lines, "; "), slowest.Round(time.Millisecond), peak>>20, baseline>>20)
	require.Empty(t, failures, "every request answered with a 4xx")
	require.LessOrEqual(t, peak, int64(200<<20), "peak resident memory within 200 MB")
	p.requireCleanLogs(t)
}

// peakRSS reads a process's peak resident set size (VmHWM) in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			require.NoError(t, err)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc/PID/status")
	return 0
}
