package browser

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/test/testenv"
)

type lockedBuffer = testenv.LogBuffer

// startBFF runs `authbff serve` on a free loopback port with exactly vars
// (plus PATH and HOME) and waits until /readyz is 200. It is stopped with
// SIGTERM when the test ends; its logs are shown if the test failed.
func startBFF(t *testing.T, vars map[string]string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	vars["LISTEN_ADDR"] = addr
	cmd := exec.Command(binary, "serve")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	logs := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			_ = err // a SIGTERMed process exits non-zero or zero; both are fine
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			t.Error("authbff did not stop within 20s of SIGTERM")
		}
		if t.Failed() {
			t.Logf("authbff logs:\n%s", tail(logs.String(), 80))
		}
		require.NotContains(t, logs.String(), "id_token_hint=", "tokens never reach the logs")
	})
	base := "http://" + addr
	deadline := time.Now().Add(90 * time.Second)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("authbff exited: %v\n%s", err, logs.String())
		case <-tick.C:
		}
	}
	t.Fatalf("authbff not ready after 90s\n%s", logs.String())
	return ""
}

func tail(s string, lines int) string {
	parts := strings.Split(s, "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}
