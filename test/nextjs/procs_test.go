package nextjs

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/test/testenv"
)

// syncBuffer collects a process's output for the failure message.
type syncBuffer = testenv.LogBuffer

// tool finds a program the test needs: skipped without it, a failure under
// CI=true.
func tool(t *testing.T, candidates ...string) string {
	t.Helper()
	for _, c := range candidates {
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is missing under CI=true (make test installs it from Debian as root)", candidates[0])
	}
	t.Skipf("%s not installed: the Next.js example test needs node, npm and chromium", candidates[0])
	return ""
}

func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// childEnv is the test's environment without the variables authbff or Next.js
// would read, plus vars: every process sees only what the test configures.
func childEnv(vars map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "AUTH_"), strings.HasPrefix(k, "NEXTAUTH_"), strings.HasPrefix(k, "NEXT_"),
			k == "DATABASE_URL", k == "BACKEND_API_URL", k == "LISTEN_ADDR", k == "PORT", k == "NODE_ENV",
			k == "AUTHBFF_URL", k == "DATA_DIR", k == "CI":
			continue
		}
		env = append(env, kv)
	}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}

// runStep runs one build step with a bound and returns how long it took.
func runStep(t *testing.T, timeout time.Duration, dir string, env []string, name string, args ...string) time.Duration {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Env = dir, env
	start := time.Now()
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s %s (bound %s):\n%s", filepath.Base(name), strings.Join(args, " "), timeout, out)
	return time.Since(start)
}

// startProcess starts a long-running process in its own process group and
// stops the whole group (next start forks workers) when the test ends.
func startProcess(t *testing.T, dir string, env []string, name string, args ...string) *syncBuffer {
	t.Helper()
	out := &syncBuffer{}
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(name), out.String())
		}
	})
	return out
}

// waitHTTP polls url until it answers 200, with a deadline.
func waitHTTP(t *testing.T, url string, within time.Duration, logs *syncBuffer) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	ok := assert.Eventually(t, func() bool {
		resp, err := client.Get(url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, within, 100*time.Millisecond)
	if !ok {
		t.Fatalf("%s did not answer 200 within %s\n%s", url, within, logs.String())
	}
}

// copyTree copies the example's sources (not node_modules or .next) so the
// test's build, whose rewrites point at the test's authbff, never replaces a
// developer's.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			if rel == "node_modules" || rel == ".next" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	require.NoError(t, err)
}
