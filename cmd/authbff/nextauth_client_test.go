package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// nextAuthDir is the Node project with the real next-auth/react client.
var nextAuthDir = filepath.Join("..", "..", "test", "nextauth")

// TestNextAuthReactClient runs the real next-auth/react client (the npm
// package, pinned in test/nextauth/package-lock.json) in Node against authbff
// with nothing configured (SQLite and the embedded development IdP):
// getProviders, getCsrfToken, getSession, signIn with redirect:false, the
// IdP's login page, the callback, getSession, update() from useSession(),
// signOut. test/nextauth/client-check.mjs does the checking and prints one
// JSON line per step. Needs node and npm: skipped without them, except under
// CI=true where that is a failure.
func TestNextAuthReactClient(t *testing.T) {
	if testing.Short() {
		t.Skip("next-auth client check skipped in -short mode (npm install)")
	}
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not installed under CI=true: the next-auth client check needs Node.js 20+ and npm", tool)
			}
			t.Skipf("%s not installed: skipping the next-auth client check", tool)
		}
	}
	npmCI(t)

	base, logs := startServe(t, map[string]string{})

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "client-check.mjs")
	cmd.Dir = nextAuthDir
	cmd.Env = append(os.Environ(), "AUTHBFF_URL="+base, "NODE_NO_WARNINGS=1")
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("client-check.mjs did not finish within 2 minutes:\n%s\nserver logs:\n%s", out.String(), logs.String())
	}
	if err != nil {
		t.Fatalf("client-check.mjs failed (%v):\n%s\nserver logs:\n%s", err, out.String(), logs.String())
	}
	t.Logf("client-check.mjs passed in %s:\n%s", time.Since(start).Round(time.Millisecond), out.String())

	// The exit status is the verdict; also make sure every step ran and said ok.
	var done bool
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var step struct {
			Step string `json:"step"`
			OK   bool   `json:"ok"`
		}
		require.NoError(t, json.Unmarshal([]byte(l), &step), "not a JSON line: %s", l)
		require.True(t, step.OK, "step %q failed:\n%s", step.Step, out.String())
		done = done || step.Step == "done"
	}
	require.True(t, done, "no final line:\n%s", out.String())
	require.NotContains(t, logs.String(), "id_token_hint", "tokens never reach the logs")
}

// npmCI installs test/nextauth's locked dependencies with `npm ci`, unless
// node_modules already holds exactly the locked packages.
func npmCI(t *testing.T) {
	t.Helper()
	if npmInstalled(nextAuthDir) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = nextAuthDir
	cmd.Env = append(os.Environ(), "NPM_CONFIG_UPDATE_NOTIFIER=false")
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "npm ci in test/nextauth:\n%s", out)
	require.True(t, npmInstalled(nextAuthDir), "npm ci did not install the locked packages:\n%s", out)
	t.Logf("npm ci in test/nextauth took %s", time.Since(start).Round(time.Millisecond))
}

// npmInstalled reports whether node_modules/.package-lock.json (npm's record
// of what it installed) lists the same packages, versions and integrity
// hashes as package-lock.json.
func npmInstalled(dir string) bool {
	type entry struct {
		Version   string `json:"version"`
		Resolved  string `json:"resolved"`
		Integrity string `json:"integrity"`
	}
	read := func(name string) (map[string]entry, error) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		var lock struct {
			Packages map[string]entry `json:"packages"`
		}
		if err := json.Unmarshal(b, &lock); err != nil {
			return nil, err
		}
		if lock.Packages == nil {
			return nil, errors.New("no packages")
		}
		delete(lock.Packages, "") // the root project, only in package-lock.json
		return lock.Packages, nil
	}
	want, err := read("package-lock.json")
	if err != nil {
		return false
	}
	have, err := read(filepath.Join("node_modules", ".package-lock.json"))
	if err != nil || len(have) != len(want) {
		return false
	}
	for k, w := range want {
		if h, ok := have[k]; !ok || h != w {
			return false
		}
	}
	return true
}
