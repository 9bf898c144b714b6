// Package image checks the container image `make image` builds: it builds it
// with podman, runs it on the host network against the test PostgreSQL with
// nothing else configured (the embedded development IdP), and signs a demo
// user in through it. Skipped in -short mode and where podman is missing,
// except under CI=true where a missing podman is a failure (`make test`
// installs podman and runc when it runs as root).
package image

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/test/authjsclient"
	"github.com/authbff/authbff/test/testenv"
)

// podman runs podman the way it works on these machines: runc, cgroupfs, and
// a containers.conf without default ulimits (CONTAINERS_CONF, unless the
// environment already names one).
type podman struct {
	conf string
}

func newPodman(t *testing.T) podman {
	t.Helper()
	if testing.Short() {
		t.Skip("image test skipped in -short mode")
	}
	if _, err := exec.LookPath("podman"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("podman is missing under CI=true: apt-get install -y podman runc (make test does it as root)")
		}
		t.Skip("podman not installed (apt-get install -y podman runc)")
	}
	conf := os.Getenv("CONTAINERS_CONF")
	if conf == "" {
		conf = filepath.Join(t.TempDir(), "containers.conf")
		require.NoError(t, os.WriteFile(conf, []byte("[containers]\ndefault_ulimits = []\n"), 0o644))
	}
	return podman{conf: conf}
}

func (p podman) cmd(ctx context.Context, name string, args ...string) *exec.Cmd {
	c := exec.CommandContext(ctx, name, args...)
	c.Env = append(os.Environ(), "CONTAINERS_CONF="+p.conf)
	return c
}

// run runs podman with the runtime flags and returns its combined output.
func (p podman) run(ctx context.Context, args ...string) (string, error) {
	args = append([]string{"--runtime", "runc", "--cgroup-manager=cgroupfs"}, args...)
	out, err := p.cmd(ctx, "podman", args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func randomSuffix() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// TestImageServesOnPostgres is the acceptance of the image: `make image`,
// then `podman run` of the result serves /readyz 200 on PostgreSQL and a
// sign-in through the development IdP works. The container gets no
// AUTH_SECRET, so serving at all proves /data is writable by the image's
// non-root user (the generated development secret is written there).
func TestImageServesOnPostgres(t *testing.T) {
	p := newPodman(t)
	dbURL := testenv.NewPostgresURL(t)
	root, err := filepath.Abs("../..")
	require.NoError(t, err)

	tag := "localhost/authbff-test:" + randomSuffix()
	ctxDir := t.TempDir()
	// The first static build on a busy 2-core machine takes minutes (the
	// -race and CGO_ENABLED=0 builds do not share cache entries).
	buildCtx, cancelBuild := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancelBuild()
	start := time.Now()
	build := p.cmd(buildCtx, "make", "--no-print-directory", "-C", root, "image", "IMAGE="+tag, "IMAGE_CTX="+ctxDir)
	out, err := build.CombinedOutput()
	require.NoError(t, err, "make image:\n%s", out)
	t.Logf("timing: make image %s", time.Since(start).Round(100*time.Millisecond))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	t.Cleanup(func() {
		if out, err := p.run(context.Background(), "rmi", "-f", tag); err != nil {
			t.Logf("podman rmi %s: %v: %s", tag, err, out)
		}
	})

	// The image's metadata: non-root, the binary as entrypoint, serve by default.
	meta, err := p.run(ctx, "image", "inspect", "--format", "{{.Config.User}}|{{json .Config.Entrypoint}}|{{json .Config.Cmd}}", tag)
	require.NoError(t, err, meta)
	require.Equal(t, `65532:65532|["/usr/local/bin/authbff"]|["serve"]`, meta)

	addr := freeLoopbackAddr(t)
	base := "http://" + addr
	name := "authbff-test-" + randomSuffix()
	start = time.Now()
	id, err := p.run(ctx, "run", "-d", "--name", name, "--network", "host",
		"-e", "AUTH_ENV=development",
		"-e", "DATABASE_URL="+dbURL,
		"-e", "AUTH_MIGRATE_ON_START=true",
		"-e", "LISTEN_ADDR="+addr,
		tag)
	require.NoError(t, err, id)
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := p.run(context.Background(), "logs", name)
			t.Logf("container logs:\n%s", logs)
		}
		if out, err := p.run(context.Background(), "rm", "-f", "-t", "5", name); err != nil {
			t.Logf("podman rm %s: %v: %s", name, err, out)
		}
	})

	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 60*time.Second, 100*time.Millisecond, "/readyz never answered 200")
	t.Logf("timing: podman run to /readyz 200 in %s", time.Since(start).Round(10*time.Millisecond))

	// The CA bundle is in the image, where Go's crypto/x509 looks for it.
	dst := t.TempDir()
	out2, err := p.run(ctx, "cp", name+":/etc/ssl/certs/ca-certificates.crt", dst)
	require.NoError(t, err, out2)
	ca, err := os.ReadFile(filepath.Join(dst, "ca-certificates.crt"))
	require.NoError(t, err)
	require.True(t, bytes.Contains(ca, []byte("BEGIN CERTIFICATE")), "CA bundle in the image")

	// A demo user signs in through the dev IdP the container serves on loopback.
	browser := authjsclient.New(base)
	landed, err := browser.SignInDevIdP("bob", base+"/dashboard")
	require.NoError(t, err)
	require.Equal(t, base+"/dashboard", landed)
	s, _, err := browser.Session()
	require.NoError(t, err)
	require.NotNil(t, s, "signed in")
	require.Equal(t, "bob@example.com", s["user"].(map[string]any)["email"])
	require.Len(t, s["organizations"], 2)

	logs, err := p.run(ctx, "logs", name)
	require.NoError(t, err)
	require.Contains(t, logs, `"data_dir":"/data"`, "the generated secret lives in the image's data folder")
}
