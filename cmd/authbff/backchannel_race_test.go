package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/test/authjsclient"
	"github.com/authbff/authbff/test/fakeop"
	"github.com/authbff/authbff/test/testenv"
)

// TestBackchannelLogoutRacesReads is docs/security.md R5: once the
// back-channel logout endpoint has answered 200, no request made after that
// answer is served the ended session. Each race signs a user in, keeps 10
// requests in flight on the session (GET /api/auth/session, answered from
// the session cache when it can, and GET /api/auth/token, the full read
// behind the proxy), posts the IdP's logout token, and goes on reading for a
// moment. Logout tokens are posted at up to 50 per second, so races overlap, on
// PostgreSQL with the session cache on (its default) and the reads of
// concurrent requests sharing statements. Every request must answer 200
// (session) or 200/401 (token), never 5xx; a request that started after the
// logout's 200 and still saw the session is a violation. The logout answer
// times are printed, not asserted.
func TestBackchannelLogoutRacesReads(t *testing.T) {
	races := 1000
	if testing.Short() {
		races = 100
	}
	op := fakeop.New(t)
	op.ServeLogins(time.Hour, 24*time.Hour)
	addr := freeAddr(t)
	base := "http://" + addr
	logs := startApp(t, map[string]string{
		"LISTEN_ADDR": addr, "AUTH_URL": base + "/api/auth", "AUTH_ENV": "development",
		"AUTH_SECRET": "backchannel-race-test-secret-0123456789abcdef", "AUTH_CLEANUP_INTERVAL": "0",
		"DATABASE_URL": testenv.NewPostgresURL(t), "AUTH_SESSION_CACHE_TTL": "1m",
		// The test signs in a thousand users from one address and reads as fast
		// as it can: the per-client limits are not what it is about.
		"AUTH_SIGNIN_RATE_LIMIT": "100000", "AUTH_TOKEN_RATE_LIMIT": "10000",
		"AUTH_KEYCLOAK_ISSUER": op.Issuer(), "AUTH_KEYCLOAK_ID": op.ClientID, "AUTH_KEYCLOAK_SECRET": "s",
	})

	t.Cleanup(func() {
		if t.Failed() { // what authbff said about the answers that failed
			for _, line := range strings.Split(logs.String(), "\n") {
				if strings.Contains(line, `"level":"ERROR"`) || strings.Contains(line, `"level":"WARN"`) {
					t.Log(line)
				}
			}
		}
	})
	// Each race's readers send the cookies its sign-in left, every time: a
	// tab whose read was answered after the logout would otherwise drop the
	// session cookie from a shared jar, and the reads after it would carry
	// none.
	cookies := make([]string, races)
	var signIns sync.WaitGroup
	errs := make(chan error, races)
	for w := range 4 {
		signIns.Add(1)
		go func() {
			defer signIns.Done()
			for i := w; i < races; i += 4 {
				b := authjsclient.New(base)
				if _, err := b.SignInAutoApprove(base+"/", url.Values{"login_hint": {raceUser(i)}}); err != nil {
					errs <- err
					return
				}
				var parts []string
				for _, c := range b.HTTP.Jar.Cookies(mustParse(t, base)) {
					parts = append(parts, c.Name+"="+c.Value)
				}
				cookies[i] = strings.Join(parts, "; ")
			}
		}()
	}
	signIns.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	client := &http.Client{Timeout: 30 * time.Second}

	// Races start at up to 50 a second, with at most 4 under way: where the
	// machine cannot keep up (a -race build beside other test packages) the
	// rate drops instead of the test piling up requests until they time
	// out. The rate reached is printed.
	results := make([]raceResult, races)
	var wg sync.WaitGroup
	underWay := make(chan struct{}, 4)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	began := time.Now()
	for i := range races {
		<-tick.C
		underWay <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-underWay; wg.Done() }()
			user := raceUser(i)
			results[i] = logoutRace(client, base, cookies[i], op.LogoutToken(user, op.SessionID(user)))
		}()
	}
	wg.Wait()
	rate := float64(races) / time.Since(began).Seconds()

	var latencies []time.Duration
	before, after := 0, 0
	for i, r := range results {
		require.NoError(t, r.err, "race %d", i)
		require.Equal(t, http.StatusOK, r.logoutStatus, "race %d: the logout token", i)
		require.Empty(t, r.violations, "race %d: requests started after the logout's 200 that saw the session", i)
		require.NotZero(t, r.servedBefore, "race %d: the session was read before the logout", i)
		latencies = append(latencies, r.latency)
		before += r.servedBefore
		after += r.refusedAfter
	}
	require.NotZero(t, after, "requests were made after the logouts' 200s")
	slices.Sort(latencies)
	t.Logf("%d races, 10 requests in flight each, logout tokens at %.0f/s: %d reads served the session before "+
		"its logout, %d made after the 200 and all refused; logout answer p50 %s, p99 %s, max %s", races, rate, before,
		after, latencies[len(latencies)/2].Round(time.Microsecond),
		latencies[len(latencies)*99/100].Round(time.Microsecond), latencies[len(latencies)-1].Round(time.Microsecond))
}

func raceUser(i int) string { return fmt.Sprintf("race-%04d", i) }

type raceResult struct {
	logoutStatus int
	latency      time.Duration
	servedBefore int      // requests that saw the session (all started before the 200)
	refusedAfter int      // requests started after the 200 (all refused)
	violations   []string // the first few
	err          error
}

type raceRead struct {
	start time.Time
	saw   bool
	err   error
}

// logoutRace reads the session from 10 goroutines, posts the logout token
// once each has been answered at least once, and reads on for 20 ms after
// its answer.
func logoutRace(client *http.Client, base, cookies, logoutToken string) raceResult {
	stop := make(chan struct{})
	var readers, first sync.WaitGroup
	reads := make([][]raceRead, 10)
	for w := range reads {
		readers.Add(1)
		first.Add(1)
		go func() {
			defer readers.Done()
			token := w%2 == 1
			for n := 0; ; n++ {
				if n == 1 {
					first.Done()
				}
				select {
				case <-stop:
					if n == 0 {
						first.Done()
					}
					return
				default:
				}
				start := time.Now()
				saw, err := readSession(client, base, cookies, token)
				reads[w] = append(reads[w], raceRead{start, saw, err})
				if err != nil { // no point going on; the result reports it
					if n == 0 {
						first.Done()
					}
					return
				}
			}
		}()
	}
	first.Wait()
	var r raceResult
	sent := time.Now()
	resp, err := http.PostForm(base+"/api/auth/backchannel-logout", url.Values{"logout_token": {logoutToken}})
	if err != nil {
		close(stop)
		readers.Wait()
		return raceResult{err: err}
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	answered := time.Now()
	r.logoutStatus, r.latency = resp.StatusCode, answered.Sub(sent)
	time.Sleep(20 * time.Millisecond)
	close(stop)
	readers.Wait()
	for _, rs := range reads {
		for _, rd := range rs {
			switch {
			case rd.err != nil:
				r.err = rd.err
			case rd.start.After(answered) && rd.saw:
				if len(r.violations) < 3 {
					r.violations = append(r.violations, fmt.Sprintf("started %s after the 200", rd.start.Sub(answered)))
				}
			case rd.start.After(answered):
				r.refusedAfter++
			case rd.saw:
				r.servedBefore++
			}
		}
	}
	return r
}

// readSession reads the session as the app does, with cookies: GET
// /api/auth/session (true when it is not null), or GET /api/auth/token
// (true on 200, false on 401). Any other answer is an error.
func readSession(client *http.Client, base, cookies string, token bool) (bool, error) {
	path := "/api/auth/session"
	if token {
		path = "/api/auth/token"
	}
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Cookie", cookies)
	req.Header.Set("X-CSRF", "1")
	resp, err := client.Do(req)
	if err != nil {
		return false, err
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return false, err
	}
	switch {
	case !token && resp.StatusCode == http.StatusOK:
		return string(body) != "null", nil
	case token && resp.StatusCode == http.StatusOK:
		return true, nil
	case token && resp.StatusCode == http.StatusUnauthorized:
		return false, nil
	}
	return false, fmt.Errorf("GET %s: %d %s", path, resp.StatusCode, body)
}
