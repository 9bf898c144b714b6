// Package e2e runs authbff as a real process against a real Keycloak 26 and a
// real PostgreSQL, driving the browser flow over HTTP with a cookie jar.
// `make test` starts Keycloak (test/scripts/keycloak.sh) and sets
// TEST_KEYCLOAK_ISSUER and AUTHBFF_TEST_BASE_URL; without them the suite is
// skipped, except under CI=true where that is a failure.
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

var (
	binary    string // the authbff binary built for this run
	issuer    string // the Keycloak realm's issuer
	skipWhy   string
	fixedBase string // AUTHBFF_TEST_BASE_URL: the one authbff origin Keycloak's back-channel logout calls
)

func TestMain(m *testing.M) {
	issuer = os.Getenv("TEST_KEYCLOAK_ISSUER")
	fixedBase = os.Getenv("AUTHBFF_TEST_BASE_URL")
	switch {
	case issuer == "" && os.Getenv("CI") == "true":
		fmt.Fprintln(os.Stderr, "e2e: TEST_KEYCLOAK_ISSUER is not set under CI=true; run the tests with `make test`")
		os.Exit(1)
	case issuer == "":
		skipWhy = "TEST_KEYCLOAK_ISSUER not set: run `make test` to start Keycloak"
	case os.Getenv("TEST_DATABASE_URL") == "":
		skipWhy = "TEST_DATABASE_URL not set: run `make test`"
	}
	if skipWhy == "" {
		dir, err := os.MkdirTemp("", "authbff-e2e-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		binary = filepath.Join(dir, "authbff")
		build := exec.Command("go", "build", "-race", "-o", binary, "github.com/authbff/authbff/cmd/authbff")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: build authbff:", err)
			os.Exit(1)
		}
		code := m.Run()
		_ = os.RemoveAll(dir)
		os.Exit(code)
	}
	os.Exit(m.Run())
}

func requireKeycloak(t *testing.T) {
	t.Helper()
	if skipWhy != "" {
		t.Skip(skipWhy)
	}
}
