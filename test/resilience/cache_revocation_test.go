package resilience

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/test/authjsclient"
	"github.com/authbff/authbff/test/testenv"
)

// replica is one authbff serve process.
type replica struct {
	base string
	logs *lockedLog
}

// lockedLog collects a replica's output.
type lockedLog = testenv.LogBuffer

// startReplica runs `authbff serve` on dbURL with the session cache on (its
// default TTL) and waits until it is ready.
func startReplica(t *testing.T, bin, dbURL, dataDir string) replica {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "LISTEN_ADDR="+addr,
		"AUTH_URL=http://"+addr+"/api/auth", "AUTH_SECRET=cache-replicas-secret-0123456789abcdefghij",
		"AUTH_DATA_DIR="+dataDir, "AUTH_CLEANUP_INTERVAL=0", "AUTH_MIGRATE_ON_START=true",
		"AUTH_KEYCLOAK_ISSUER=", "AUTH_KEYCLOAK_ID=", "AUTH_ENV=development", "AUTH_SESSION_CACHE_TTL=")
	r := replica{base: "http://" + addr, logs: &lockedLog{}}
	cmd.Stdout, cmd.Stderr = r.logs, r.logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() })
	require.Eventually(t, func() bool {
		resp, err := http.Get(r.base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 60*time.Second, 50*time.Millisecond, "authbff did not become ready")
	return r
}

// TestRevocationReachesTheOtherReplicaUnderLoad runs two authbff processes
// on one PostgreSQL database, both caching session reads (the default).
// Replica B answers a continuous load of GET /api/auth/session for one
// session, so its cache holds it; the user signs out through replica A.
// The test records how long after A's answer B still answered the session
// (printed; the cache's invalidation travels by LISTEN/NOTIFY) and requires
// that B stops answering it.
func TestRevocationReachesTheOtherReplicaUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs two authbff processes")
	}
	testenv.RequirePostgres(t)
	dbURL := testenv.NewPostgresURL(t)
	work := t.TempDir()
	bin := filepath.Join(work, "authbff")
	build := exec.Command("go", "build", "-o", bin, "github.com/authbff/authbff/cmd/authbff")
	build.Dir = repoRoot(t)
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))

	a := startReplica(t, bin, dbURL, filepath.Join(work, "a"))
	b := startReplica(t, bin, dbURL, filepath.Join(work, "b"))

	browser := authjsclient.New(a.base)
	_, err = browser.SignInDevIdP("bob", a.base+"/")
	require.NoError(t, err, a.logs.String())
	var cookie string
	for _, ck := range browser.HTTP.Jar.Cookies(mustURL(a.base)) {
		if ck.Name == "authjs.session-token" {
			cookie = ck.Value
		}
	}
	require.NotEmpty(t, cookie)

	// Load on replica B: 8 clients reading the session as fast as B answers.
	type answer struct {
		at      time.Time
		session bool
		status  int
	}
	var mu sync.Mutex
	var answers []answer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	client := &http.Client{Timeout: 5 * time.Second}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.base+"/api/auth/session", nil)
				req.Header.Set("Cookie", "authjs.session-token="+cookie)
				resp, err := client.Do(req)
				if err != nil {
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				mu.Lock()
				answers = append(answers, answer{time.Now(), strings.HasPrefix(string(body), "{"), resp.StatusCode})
				mu.Unlock()
			}
		})
	}
	sessionsSeen := func() int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, x := range answers {
			if x.session {
				n++
			}
		}
		return n
	}
	require.Eventually(t, func() bool { return sessionsSeen() > 500 }, 10*time.Second, 10*time.Millisecond,
		"replica B answers the session under load")

	_, resp, err := browser.SignOut(a.base + "/")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.Status)
	revoked := time.Now()
	var lastStale time.Time
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		nullsAfter := 0
		for _, x := range answers {
			if x.at.After(revoked) && x.session && x.at.After(lastStale) {
				lastStale = x.at
			}
			if x.at.After(revoked) && !x.session && x.status == http.StatusOK {
				nullsAfter++
			}
		}
		return nullsAfter > 100
	}, 15*time.Second, 10*time.Millisecond, "replica B stops answering the revoked session")
	cancel()
	wg.Wait()

	var total, stale, errs int
	for _, x := range answers {
		total++
		if x.at.After(revoked) && x.session {
			stale++
		}
		if x.status != http.StatusOK {
			errs++
		}
	}
	window := time.Duration(0)
	if !lastStale.IsZero() {
		window = lastStale.Sub(revoked)
	}
	t.Logf("revocation on replica A: replica B kept answering the session for %s after A answered (%d stale answers of %d, %d non-200)",
		window.Round(time.Microsecond), stale, total, errs)
	require.Zero(t, errs, "every answer is a 200")
}
