package e2e

import (
	"context"
	"database/sql"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for checking rows
	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/test/testenv"
)

// testSecret is the AUTH_SECRET of every authbff process in one test, so
// two processes share sessions.
const testSecret = "e2e-secret-0123456789abcdefghijklmnopqrstuvwxyz"

// bff is one authbff process.
type bff struct {
	Base string
	cmd  *exec.Cmd
	logs *lockedBuffer
}

type lockedBuffer = testenv.LogBuffer

// env is one test's world: a fresh database and the processes on it.
type env struct {
	t     *testing.T
	DBURL string
	DB    *sql.DB
}

func newEnv(t *testing.T) *env {
	t.Helper()
	requireKeycloak(t)
	url := testenv.NewPostgresURL(t)
	db, err := sql.Open("pgx", url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	e := &env{t: t, DBURL: url, DB: db}
	out, err := e.command(nil, "migrate", "up").CombinedOutput()
	require.NoError(t, err, string(out))
	return e
}

func (e *env) command(extra map[string]string, args ...string) *exec.Cmd {
	cmd := exec.Command(binary, args...)
	vars := map[string]string{
		"DATABASE_URL":          e.DBURL,
		"AUTH_SECRET":           testSecret,
		"AUTH_KEYCLOAK_ISSUER":  issuer,
		"AUTH_KEYCLOAK_ID":      "web_app",
		"AUTH_KEYCLOAK_SECRET":  "web_app_secret",
		"AUTH_DATA_DIR":         e.t.TempDir(),
		"AUTH_CLEANUP_INTERVAL": "0",
	}
	for k, v := range extra {
		vars[k] = v
	}
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd
}

// start runs `authbff serve` on addr ("" = a free loopback port) and waits
// until /readyz is 200. It is stopped with SIGTERM when the test ends.
func (e *env) start(addr string, extra map[string]string) *bff {
	t := e.t
	t.Helper()
	if addr == "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr = ln.Addr().String()
		require.NoError(t, ln.Close())
	}
	base := "http://" + addr
	vars := map[string]string{"LISTEN_ADDR": addr, "AUTH_URL": base + "/api/auth"}
	for k, v := range extra {
		vars[k] = v
	}
	b := &bff{Base: base, logs: &lockedBuffer{}}
	b.cmd = e.command(vars, "serve")
	b.cmd.Stdout, b.cmd.Stderr = b.logs, b.logs
	require.NoError(t, b.cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- b.cmd.Wait() }()
	t.Cleanup(func() {
		_ = b.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			_ = err // a SIGTERMed process exits non-zero or zero; both are fine
		case <-time.After(20 * time.Second):
			_ = b.cmd.Process.Kill()
			t.Error("authbff did not stop within 20s of SIGTERM")
		}
		if t.Failed() {
			t.Logf("authbff %s logs:\n%s", addr, tail(b.logs.String(), 60))
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return b
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("authbff exited: %v\n%s", err, b.logs.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("authbff not ready after 60s\n%s", b.logs.String())
	return nil
}

// fixedPort serialises the tests that need the one authbff origin Keycloak
// sends back-channel logouts to.
var fixedPort sync.Mutex

func (e *env) startFixed(extra map[string]string) *bff {
	e.t.Helper()
	if fixedBase == "" {
		e.t.Skip("AUTHBFF_TEST_BASE_URL not set")
	}
	fixedPort.Lock()
	e.t.Cleanup(fixedPort.Unlock)
	return e.start(strings.TrimPrefix(fixedBase, "http://"), extra)
}

func (e *env) count(query string, args ...any) int {
	e.t.Helper()
	var n int
	require.NoError(e.t, e.DB.QueryRowContext(context.Background(), query, args...).Scan(&n))
	return n
}

func tail(s string, lines int) string {
	parts := strings.Split(s, "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}
