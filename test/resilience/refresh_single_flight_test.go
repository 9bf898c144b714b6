package resilience

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/test/fakeop"
	"github.com/authbff/authbff/test/testenv"
)

// TestRefreshSingleFlightAcrossTwoProcesses is docs/security.md R1 as its
// checklist states it, 50 times: two authbff processes on one PostgreSQL
// database, a provider that rotates refresh tokens and answers a reused one
// with invalid_grant (as Keycloak does with reuse detection on), and per
// round one fresh session whose access token is due, hit by 100 requests
// at once, 50 per process, half to the token endpoint and half through the
// proxy. Every round: exactly one refresh request at the provider; all 100
// answers 200; the token endpoint's answers and the bearer tokens the
// backend received are one and the same new access token; the session still
// reads afterwards. Round times are printed, not asserted.
func TestRefreshSingleFlightAcrossTwoProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("50 rounds of 100 requests against two built binaries")
	}
	const rounds, perProcess = 50, 50
	dbURL := testenv.NewPostgresURL(t)
	op := fakeop.New(t)
	// Sign-in tokens are already within the refresh skew (30 s): due at once.
	op.ServeLogins(10*time.Second, time.Hour)
	var mu sync.Mutex
	var bearers []string
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		bearers = append(bearers, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		mu.Unlock()
		_, _ = io.WriteString(w, "ok")
	}))
	defer backend.Close()
	bin := buildAuthbff(t)
	env := map[string]string{"DATABASE_URL": dbURL, "BACKEND_API_URL": backend.URL}
	procs := []*authbffProc{startAuthbff(t, bin, op, env), startAuthbff(t, bin, op, env)}

	var took []time.Duration
	for round := range rounds {
		user := fmt.Sprintf("single-flight-%d", round)
		cookie := signInAs(t, procs[round%2], user)
		mu.Lock()
		bearers = nil
		mu.Unlock()
		type answer struct {
			status int
			token  string
		}
		answers := make(chan answer, 2*perProcess)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range 2 * perProcess {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p := procs[i%2]
				<-start
				if i%4 < 2 {
					status, token := getToken(p, cookie)
					answers <- answer{status, token}
					return
				}
				answers <- answer{status: proxiedGet(p, cookie)}
			}()
		}
		began := time.Now()
		close(start)
		wg.Wait()
		took = append(took, time.Since(began))
		close(answers)
		tokens := map[string]int{}
		statuses := map[int]int{}
		for a := range answers {
			statuses[a.status]++
			if a.token != "" {
				tokens[a.token]++
			}
		}
		mu.Lock()
		for _, b := range bearers {
			tokens[b]++
		}
		seen := len(bearers)
		mu.Unlock()
		require.Equal(t, map[int]int{http.StatusOK: 2 * perProcess}, statuses, "round %d: every answer", round)
		require.Equal(t, perProcess, seen, "round %d: every proxied call reached the backend", round)
		require.Len(t, tokens, 1, "round %d: one access token for all: %v", round, tokens)
		require.Equal(t, 1, op.RefreshRequestsBySubject()[user], "round %d: refresh requests at the provider", round)
		require.Equal(t, http.StatusOK, sessionStatus(procs[(round+1)%2], cookie), "round %d: the session still reads", round)
	}
	slices.Sort(took)
	t.Logf("%d rounds of %d requests on 2 processes, each round 1 refresh at the provider: round time p50 %s, p99 %s, max %s",
		rounds, 2*perProcess, took[len(took)/2].Round(time.Millisecond),
		took[len(took)*99/100].Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond))
	for _, p := range procs {
		p.requireCleanLogs(t)
	}
}

// proxiedGet calls the backend through p's proxy with the session cookie.
func proxiedGet(p *authbffProc, cookie string) int {
	req, _ := http.NewRequest(http.MethodGet, p.Base+"/api/proxy/orders", nil)
	req.Header.Set("Cookie", "authjs.session-token="+cookie)
	resp, err := testClient.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}
