package resilience

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/test/fakeop"
	"github.com/authbff/authbff/test/testenv"
)

// TestSignInFloodStaysUnderTheCap is docs/security.md R9's anonymous
// sign-in flood, at process level: two authbff processes on one PostgreSQL
// database, AUTH_SIGNIN_MAX_PENDING=200, and 10 000 sign-in starts, 50 at a
// time from 50 loopback addresses (a flood from many clients; the per-client
// rate limit is raised out of the way as well), each a valid Auth.js POST
// with its CSRF token, as anyone can send. Exactly 200 sign-ins are stored, across both processes;
// every other start gets the 503 Unavailable page with Retry-After, none a
// 500; and a user who signed in before the flood still reads their session
// during it. The cap is decided in the store in one step with the insert
// (on PostgreSQL under an advisory lock), so starts that arrive together
// cannot all count below it; counting first and inserting after let them
// through.
func TestSignInFloodStaysUnderTheCap(t *testing.T) {
	if testing.Short() {
		t.Skip("10 000 requests against two built binaries")
	}
	const limit, total, clients = 200, 10_000, 50
	dbURL := testenv.NewPostgresURL(t)
	op := fakeop.New(t)
	op.ServeLogins(time.Hour, time.Hour)
	bin := buildAuthbff(t)
	env := map[string]string{"DATABASE_URL": dbURL, "AUTH_SIGNIN_MAX_PENDING": fmt.Sprint(limit)}
	procs := []*authbffProc{startAuthbff(t, bin, op, env), startAuthbff(t, bin, op, env)}
	resident := signInAs(t, procs[0], "resident")
	db, err := sql.Open("pgx", dbURL)
	require.NoError(t, err)
	defer db.Close()
	pending := func() int {
		var n int
		require.NoError(t, db.QueryRow("SELECT count(*) FROM login_flows").Scan(&n))
		return n
	}
	require.Equal(t, 0, pending(), "the resident's sign-in was consumed")

	var mu sync.Mutex
	statuses := map[int]int{}
	var failures []string
	var slowest time.Duration
	residentReads := map[int]int{}
	var wg sync.WaitGroup
	start := time.Now()
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := procs[w%2]
			local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+w))}
			jar, _ := cookiejar.New(nil)
			client := &http.Client{Timeout: 30 * time.Second, Jar: jar,
				Transport:     &http.Transport{DialContext: (&net.Dialer{LocalAddr: local}).DialContext},
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			defer client.CloseIdleConnections()
			token := csrfTokenOf(t, client, p)
			form := url.Values{"csrfToken": {token}, "callbackUrl": {p.Base + "/"}}.Encode()
			for i := w; i < total; i += clients {
				began := time.Now()
				resp, err := client.Post(p.Base+"/api/auth/signin/keycloak", "application/x-www-form-urlencoded", strings.NewReader(form))
				took := time.Since(began)
				mu.Lock()
				slowest = max(slowest, took)
				switch {
				case err != nil:
					failures = append(failures, err.Error())
				case resp.StatusCode == http.StatusFound && strings.HasPrefix(resp.Header.Get("Location"), op.Issuer()):
				case resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "":
				default:
					failures = append(failures, fmt.Sprintf("%d %s", resp.StatusCode, resp.Header.Get("Location")))
				}
				if err == nil {
					statuses[resp.StatusCode]++
				}
				mu.Unlock()
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				if i%(clients*20) == w { // now and then, the resident reads their session
					mu.Lock()
					residentReads[sessionStatus(procs[(w/2)%2], resident)]++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	stored := pending()
	t.Logf("%d sign-in starts from %d addresses on 2 processes in %s (%.0f/s): %s; slowest answer %s; sign-ins stored %d (cap %d); the resident's session reads during the flood: %s",
		total, clients, elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds(), fmtCounts(statuses),
		slowest.Round(time.Millisecond), stored, limit, fmtCounts(residentReads))
	require.Empty(t, failures, "every start either went to the IdP or was refused with 503 and Retry-After")
	require.Equal(t, limit, stored, "pending sign-ins stored")
	require.Equal(t, limit, statuses[http.StatusFound], "starts sent to the IdP")
	require.Equal(t, []int{http.StatusOK}, slices.Collect(maps.Keys(residentReads)), "the signed-in user kept reading their session")
	for _, p := range procs {
		p.requireCleanLogs(t)
	}
}

// csrfTokenOf fetches an Auth.js CSRF token; the client's jar keeps its cookie.
func csrfTokenOf(t *testing.T, client *http.Client, p *authbffProc) string {
	resp, err := client.Get(p.Base + "/api/auth/csrf")
	if err != nil {
		t.Error(err)
		return ""
	}
	defer resp.Body.Close()
	var body struct {
		CSRFToken string `json:"csrfToken"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Error(err)
	}
	return body.CSRFToken
}

// sessionStatus is the status of GET /api/auth/session with the cookie, or
// -1 when the request failed; a 200 with a null body counts as 401.
func sessionStatus(p *authbffProc, cookie string) int {
	req, _ := http.NewRequest(http.MethodGet, p.Base+"/api/auth/session", nil)
	req.Header.Set("Cookie", "authjs.session-token="+cookie)
	resp, err := testClient.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK && strings.TrimSpace(string(b)) == "null" {
		return http.StatusUnauthorized
	}
	return resp.StatusCode
}
