package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/authbff/authbff/test/authjsclient"
	"github.com/authbff/authbff/test/testenv"
)

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer = testenv.LogBuffer

// startApp migrates and starts the server built from vars as `authbff
// serve` builds it, in-process, with extra fx options (decorated clocks) on
// top; it stops when the test ends. vars must name LISTEN_ADDR.
func startApp(t *testing.T, vars map[string]string, extra ...fx.Option) *syncBuffer {
	t.Helper()
	if _, ok := vars["AUTH_DATA_DIR"]; !ok {
		vars["AUTH_DATA_DIR"] = t.TempDir()
	}
	cfg, err := loadConfig(envOf(vars), true)
	require.NoError(t, err)
	logs := &syncBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, migrateUp(ctx, cfg, newLogger(cfg, logs)))
	app := fx.New(append([]fx.Option{appOptions(cfg, logs)}, extra...)...)
	require.NoError(t, app.Err())
	require.NoError(t, app.Start(ctx), logs.String())
	t.Cleanup(func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		require.NoError(t, app.Stop(stopCtx))
	})
	return logs
}

// startServe runs `authbff serve` in-process with vars and waits until
// /healthz answers. The server stops when the test ends.
func startServe(t *testing.T, vars map[string]string) (string, *syncBuffer) {
	t.Helper()
	addr := freeAddr(t)
	vars["LISTEN_ADDR"] = addr
	if _, ok := vars["AUTH_DATA_DIR"]; !ok {
		vars["AUTH_DATA_DIR"] = t.TempDir()
	}
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, logs, logs, envOf(vars)) }()
	exited := false
	t.Cleanup(func() {
		cancel()
		if exited {
			return
		}
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(20 * time.Second):
			t.Error("serve did not stop within 20s")
		}
	})
	base := "http://" + addr
	for i := 0; i < 200; i++ {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			return base, logs
		}
		select {
		case err := <-done:
			exited = true
			t.Fatalf("serve exited: %v\n%s", err, logs.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("serve did not answer /healthz\n%s", logs.String())
	return "", nil
}

// TestServeWithNothingConfigured is `make run` on a fresh machine: SQLite and
// the embedded development IdP. A demo user signs in through the real
// Auth.js routes and GET /api/auth/session shows roles and organizations.
func TestServeWithNothingConfigured(t *testing.T) {
	base, logs := startServe(t, map[string]string{})

	r, err := http.Get(base + "/readyz")
	require.NoError(t, err)
	r.Body.Close()
	require.Equal(t, http.StatusOK, r.StatusCode)

	browser := authjsclient.New(base)
	providers, err := browser.Providers()
	require.NoError(t, err)
	require.Equal(t, "oidc", providers["keycloak"]["type"])

	landed, err := browser.SignInDevIdP("bob", base+"/dashboard")
	require.NoError(t, err, logs.String())
	require.Equal(t, base+"/dashboard", landed)

	s, _, err := browser.Session()
	require.NoError(t, err)
	require.NotNil(t, s, "signed in")
	user := s["user"].(map[string]any)
	require.Equal(t, "Bob User", user["name"])
	require.Equal(t, "bob@example.com", user["email"])
	require.Contains(t, user["roles"], "user")
	orgs := s["organizations"].([]any)
	require.Len(t, orgs, 2)
	active := s["activeOrganization"].(map[string]any)
	require.Equal(t, "acme", active["alias"])
	require.Equal(t, "tenant-acme", active["tenantId"])

	// alice is an admin with a client role.
	alice := authjsclient.New(base)
	_, err = alice.SignInDevIdP("alice", base+"/")
	require.NoError(t, err)
	as, _, err := alice.Session()
	require.NoError(t, err)
	require.Subset(t, as["user"].(map[string]any)["roles"], []any{"admin", "user", "reports-viewer"})

	// Sign-out answers the IdP's end-session URL and ends the session.
	url, resp, err := browser.SignOut(base + "/")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.Status)
	require.Contains(t, url, "id_token_hint=")
	s, _, err = browser.Session()
	require.NoError(t, err)
	require.Nil(t, s)

	require.NotContains(t, logs.String(), "id_token_hint", "tokens never reach the logs")

	// Metrics count what happened.
	m, err := browser.Get(base + "/metrics")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, m.Status)
	text := string(m.Body)
	require.Contains(t, text, `authbff_sign_ins_total{result="success"} 2`)
	require.Contains(t, text, `authbff_sessions_revoked_total{reason="signout"} 1`)
	require.Contains(t, text, "authbff_active_sessions 1")
	require.Contains(t, text, `go_sql_max_open_connections{db_name="authbff"}`)
}

// TestSessionReadIsOneRoundTrip shows that GET /api/auth/session costs one
// database round trip at steady state without the session cache, on
// PostgreSQL: AUTH_DEBUG logs one "db query" line per statement, and with
// pgx's exec mode a statement is one round trip.
func TestSessionReadIsOneRoundTrip(t *testing.T) {
	url := testenv.NewPostgresURL(t)
	vars := map[string]string{"DATABASE_URL": url, "AUTH_DEBUG": "true", "AUTH_CLEANUP_INTERVAL": "0", "AUTH_MIGRATE_ON_START": "true",
		"AUTH_SESSION_CACHE_TTL": "0"}
	base, logs := startServe(t, vars)
	browser := authjsclient.New(base)
	_, err := browser.SignInDevIdP("bob", base+"/")
	require.NoError(t, err)

	countQueries := func() int { return strings.Count(logs.String(), `"msg":"db query"`) }
	// The access log line is written once the handler has finished, so every
	// statement of the request is logged by the time it lands.
	sessionReads := func() int { return strings.Count(logs.String(), `"method":"GET","path":"/api/auth/session"`) }
	for i := 0; i < 3; i++ {
		before, reads := countQueries(), sessionReads()
		s, _, err := browser.Session()
		require.NoError(t, err)
		require.NotNil(t, s)
		require.Eventually(t, func() bool { return sessionReads() > reads }, 5*time.Second, 5*time.Millisecond,
			"the access log line of GET /api/auth/session lands")
		require.Equal(t, 1, countQueries()-before, "GET /api/auth/session #%d", i+1)
	}
	require.NotContains(t, logs.String(), "token_hash", "statement text is never logged")

	// Those reads took their connections from the pool directly, which
	// /metrics shows beside database/sql's figures.
	m, err := browser.Get(base + "/metrics")
	require.NoError(t, err)
	require.Contains(t, string(m.Body), "authbff_db_pool_max_connections ")
	require.Regexp(t, `authbff_db_pool_acquires_total [1-9]`, string(m.Body))
}

// TestCachedSessionReadSkipsTheDatabase: with the session cache on (the
// default), repeated reads of one session within the TTL cost no statement,
// and a sign-out is seen by the very next read.
func TestCachedSessionReadSkipsTheDatabase(t *testing.T) {
	url := testenv.NewPostgresURL(t)
	vars := map[string]string{"DATABASE_URL": url, "AUTH_DEBUG": "true", "AUTH_CLEANUP_INTERVAL": "0", "AUTH_MIGRATE_ON_START": "true",
		"AUTH_SESSION_CACHE_TTL": "1m"}
	base, logs := startServe(t, vars)
	browser := authjsclient.New(base)
	_, err := browser.SignInDevIdP("bob", base+"/")
	require.NoError(t, err)

	countQueries := func() int { return strings.Count(logs.String(), `"msg":"db query"`) }
	// The first reads fill the cache (a change announced by the sign-in may
	// still arrive and empty it once); then reads are served from memory.
	require.Eventually(t, func() bool {
		before := countQueries()
		for range 5 {
			s, _, err := browser.Session()
			if err != nil || s == nil {
				return false
			}
		}
		return countQueries() == before
	}, 10*time.Second, 10*time.Millisecond, "five reads in a row without a statement")

	_, resp, err := browser.SignOut(base + "/")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.Status)
	s, _, err := browser.Session()
	require.NoError(t, err)
	require.Nil(t, s, "a sign-out is seen at once by the replica that made it")
}

// TestBoundedInputs is docs/security.md R9 in miniature: oversized bodies,
// cookies and tokens are refused with a 4xx, quickly, before any parsing.
func TestBoundedInputs(t *testing.T) {
	base, _ := startServe(t, map[string]string{})
	client := &http.Client{Timeout: 5 * time.Second}

	huge := strings.Repeat("a", 1<<20)
	resp, err := client.Post(base+"/api/auth/backchannel-logout", "application/x-www-form-urlencoded", strings.NewReader("logout_token="+huge))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, "1 MB logout body")

	segments := strings.Repeat("a.", 100000)
	resp, err = client.Post(base+"/api/auth/backchannel-logout", "application/x-www-form-urlencoded", strings.NewReader("logout_token="+segments[:60000]))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "a token of thousands of segments")

	req, _ := http.NewRequest(http.MethodGet, base+"/api/auth/session", nil)
	req.Header.Set("Cookie", "authjs.session-token="+strings.Repeat("b", 70<<10))
	resp, err = client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode, "a 70 KB cookie")

	req, _ = http.NewRequest(http.MethodGet, base+"/api/auth/session", nil)
	req.Header.Set("Cookie", "authjs.session-token="+strings.Repeat("c", 4000))
	resp, err = client.Do(req)
	require.NoError(t, err)
	b := make([]byte, 16)
	n, _ := resp.Body.Read(b)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "null", string(b[:n]), "a malformed session token is no session, without a database lookup")

	signinBody := strings.NewReader("csrfToken=" + strings.Repeat("x", 200<<10))
	req, _ = http.NewRequest(http.MethodPost, base+"/api/auth/signin/keycloak", signinBody)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Auth-Return-Redirect", "1")
	resp, err = client.Do(req)
	require.NoError(t, err)
	var body map[string]string
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	resp.Body.Close()
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, "an oversized form is refused, not parsed")
	require.Equal(t, base+"/api/auth/error?error=Configuration", body["url"])
}

// TestGracefulShutdownFinishesInFlightRequests is docs/security.md R12 in
// miniature: a proxied request that is in flight when SIGTERM arrives still
// completes, and serve then returns without error.
func TestGracefulShutdownFinishesInFlightRequests(t *testing.T) {
	arrived, release := make(chan struct{}), make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		close(arrived)
		<-release // answer only once serve is shutting down
		_, _ = w.Write([]byte(`{"slow":true}`))
	}))
	defer slow.Close()
	addr := freeAddr(t)
	vars := map[string]string{"LISTEN_ADDR": addr, "AUTH_DATA_DIR": t.TempDir(), "BACKEND_API_URL": slow.URL}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	logs := &syncBuffer{}
	go func() { done <- run(ctx, []string{"serve"}, logs, logs, envOf(vars)) }()
	base := "http://" + addr
	require.Eventually(t, func() bool {
		r, err := http.Get(base + "/healthz")
		if err == nil {
			r.Body.Close()
		}
		return err == nil
	}, 20*time.Second, 50*time.Millisecond)
	browser := authjsclient.New(base)
	_, err := browser.SignInDevIdP("alice", base+"/")
	require.NoError(t, err)

	result := make(chan authjsclient.Response, 1)
	go func() {
		r, err := browser.Get(base + "/api/proxy/slow")
		if err != nil {
			r.Status = -1
		}
		result <- r
	}()
	<-arrived // the request is now waiting on the upstream
	cancel()  // what SIGTERM does
	// Shutdown closes the listener first, then waits for in-flight requests.
	require.Eventually(t, func() bool {
		r, err := http.Get(base + "/healthz")
		if err == nil {
			r.Body.Close()
		}
		return err != nil
	}, 10*time.Second, 5*time.Millisecond, "the listener closes")
	close(release)
	r := <-result
	require.Equal(t, http.StatusOK, r.Status, "the in-flight request completed")
	require.JSONEq(t, `{"slow":true}`, string(r.Body))
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
	_, err = http.Get(base + "/healthz")
	require.Error(t, err, "the listener is closed")
}
