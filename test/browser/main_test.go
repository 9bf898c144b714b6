// Package browser drives headless Chromium (Debian's chromium package) with
// chromedp through what a browser user does with authbff: the built-in
// Auth.js pages, the unchanged next-auth/react client running in a page,
// reloads, an organization switch, the proxy, and both ways of signing out,
// against the embedded development IdP and against a real Keycloak. Every
// page is watched for console errors and CSP violations.
//
// The page script (test/nextauth/page.mjs) is bundled with esbuild and
// served by a small "front" server on its own loopback origin, which also
// reverse-proxies /api/auth/* and /api/proxy/* to authbff, as a Next.js
// app's rewrites do; AUTH_URL is the front origin. TestHTTPSCookiesInChromium
// serves the front over https (a self-signed certificate Chromium trusts by
// its key), so the cookies get their __Secure-/__Host- names and Secure.
//
// Without chromium, node or npm the tests are skipped; under CI=true that is
// a failure. The Keycloak test needs TEST_KEYCLOAK_ISSUER and
// TEST_DATABASE_URL (`make test` sets both), with the same CI rule.
package browser

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

var (
	chromePath string // the Chromium binary
	binary     string // the authbff binary built for this run
	pageJS     []byte // the bundled page script
	skipWhy    string // why the browser tests cannot run here
)

// nextAuthDir is the npm project with next-auth/react and esbuild.
var nextAuthDir = filepath.Join("..", "nextauth")

func TestMain(m *testing.M) {
	flag.Parse()
	ci := os.Getenv("CI") == "true"
	skipWhy = prerequisites()
	if skipWhy != "" && ci {
		fmt.Fprintf(os.Stderr, "browser: %s, which is a failure under CI=true (test/scripts/test.sh installs chromium)\n", skipWhy)
		os.Exit(1)
	}
	if skipWhy != "" || testing.Short() {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "authbff-browser-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := 1
	if err := prepare(dir); err != nil {
		fmt.Fprintln(os.Stderr, "browser:", err)
	} else {
		code = m.Run()
	}
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// prerequisites finds Chromium, node and npm; it returns what is missing.
func prerequisites() string {
	if p := os.Getenv("CHROMIUM_PATH"); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			return "CHROMIUM_PATH=" + p + " is not an executable"
		}
		chromePath = p
	} else {
		for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
			if p, err := exec.LookPath(name); err == nil {
				chromePath = p
				break
			}
		}
	}
	if chromePath == "" {
		return "chromium is not installed (apt-get install chromium, or set CHROMIUM_PATH)"
	}
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			return tool + " is not installed (the page script is bundled with esbuild from npm)"
		}
	}
	return ""
}

// prepare builds authbff and bundles the page script into dir.
func prepare(dir string) error {
	start := time.Now()
	binary = filepath.Join(dir, "authbff")
	build := exec.Command("go", "build", "-race", "-o", binary, "github.com/authbff/authbff/cmd/authbff")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build authbff: %w", err)
	}
	if err := npmCI(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out := filepath.Join(dir, "page.js")
	bundle := exec.CommandContext(ctx, "node", "build.mjs", out)
	bundle.Dir = nextAuthDir
	if b, err := bundle.CombinedOutput(); err != nil {
		return fmt.Errorf("bundle the page script: %w\n%s", err, b)
	}
	var err error
	if pageJS, err = os.ReadFile(out); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "browser: authbff built and page script bundled (%d bytes) in %s\n", len(pageJS), time.Since(start).Round(time.Millisecond))
	return nil
}
