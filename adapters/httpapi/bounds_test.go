package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/adapters/httpapi"
)

// rawRequest sends a GET with exactly these header lines over a fresh
// connection and returns the status and body.
func rawRequest(t *testing.T, addr, path string, lines []string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	req := "GET " + path + " HTTP/1.1\r\n" + strings.Join(lines, "") + "\r\n"
	_, err = io.WriteString(conn, req)
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(b)
}

// TestHeaderBoundIsExact: on the real server (http.Server with its
// MaxHeaderBytes and Go's slack), a header set of exactly 64 KiB passes and
// 64 KiB + 1 byte gets 431 in the JSON error shape; far larger sets get 431
// from Go itself.
func TestHeaderBoundIsExact(t *testing.T) {
	a, engine := newEdgeApp(t, fakeStores(), "")
	srv := httpapi.NewServer(httpapi.Config{ListenAddr: "127.0.0.1:0", PublicURL: mustParse(a.url("/api/auth"))}, engine,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, srv.Start(context.Background()))
	t.Cleanup(func() { _ = srv.Stop(context.Background()) })
	addr := srv.Addr()

	lines := func(total int) []string {
		host := "Host: " + addr + "\r\n"
		conn := "Connection: close\r\n"
		pad := total - len(host) - len(conn) - len("Cookie: a=\r\n")
		ls := []string{host, conn, "Cookie: a=" + strings.Repeat("x", pad) + "\r\n"}
		n := 0
		for _, l := range ls {
			n += len(l)
		}
		require.Equal(t, total, n)
		return ls
	}
	status, body := rawRequest(t, addr, "/api/auth/session", lines(httpapi.MaxHeaderBytes))
	require.Equal(t, http.StatusOK, status, body)
	status, body = rawRequest(t, addr, "/api/auth/session", lines(httpapi.MaxHeaderBytes+1))
	require.Equal(t, http.StatusRequestHeaderFieldsTooLarge, status)
	require.Contains(t, body, `"code":"headers_too_large"`)
	status, _ = rawRequest(t, addr, "/api/proxy/x", lines(httpapi.MaxHeaderBytes+1))
	require.Equal(t, http.StatusRequestHeaderFieldsTooLarge, status, "the proxy route too")
	// Headers spread over many lines count the same way.
	many := []string{"Host: " + addr + "\r\n"}
	total := len(many[0])
	for i := 0; total < httpapi.MaxHeaderBytes+1; i++ {
		l := fmt.Sprintf("X-H%d: %s\r\n", i, strings.Repeat("v", 100))
		many = append(many, l)
		total += len(l)
	}
	status, _ = rawRequest(t, addr, "/api/auth/session", many)
	require.Equal(t, http.StatusRequestHeaderFieldsTooLarge, status)
	statusHuge, _ := rawRequest(t, addr, "/api/auth/session", lines(100<<10))
	require.Equal(t, http.StatusRequestHeaderFieldsTooLarge, statusHuge)
	t.Logf("headers of %d bytes → 200; %d bytes → 431 (one cookie line, and %d lines of %d bytes); 100 KiB → %d",
		httpapi.MaxHeaderBytes, httpapi.MaxHeaderBytes+1, len(many), total, statusHuge)
}

func mustParse(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// TestOversizedBodiesAre413: a 100 KB body or 10,000 fields on authbff's
// routes is refused with 413 before any parse (it used to be cut and parsed
// as 200 {"url":"…error=MissingCSRF"}), and starts nothing; a body at the
// limits is parsed.
func TestOversizedBodiesAre413(t *testing.T) {
	st := fakeStores()
	a, _ := newEdgeApp(t, st, "")
	c := signIn(t, a, alice)
	tok := csrfToken(t, c, a)
	bigForm := "csrfToken=" + tok + "&callbackUrl=%2F&pad=" + strings.Repeat("x", 100_000)
	var fields strings.Builder
	fields.WriteString("csrfToken=" + tok)
	for i := 0; i < 10_000; i++ {
		fmt.Fprintf(&fields, "&f%d=1", i)
	}
	jsonFields := map[string]any{"csrfToken": tok}
	for i := 0; i < 10_000; i++ {
		jsonFields[fmt.Sprintf("f%d", i)] = 1
	}
	manyJSON, _ := json.Marshal(jsonFields)
	bigJSON, _ := json.Marshal(map[string]any{"csrfToken": tok, "pad": strings.Repeat("x", 100_000)})
	hdr := map[string]string{"X-Auth-Return-Redirect": "1", "X-CSRF": "1"}
	form, js := "application/x-www-form-urlencoded", "application/json"
	cases := []struct{ path, ct, body string }{
		{"/api/auth/signin/keycloak", form, bigForm},
		{"/api/auth/signin/keycloak", form, fields.String()},
		{"/api/auth/signin/keycloak", js, string(manyJSON)},
		{"/api/auth/signout", form, bigForm},
		{"/api/auth/signout", form, fields.String()},
		{"/api/auth/session", js, string(bigJSON)},
		{"/api/auth/session", js, string(manyJSON)},
		{"/api/auth/callback/keycloak", form, bigForm},
		{"/api/auth/callback/keycloak", form, fields.String()},
		{"/api/auth/organization", js, string(bigJSON)},
		{"/api/auth/backchannel-logout", form, "logout_token=" + strings.Repeat("x", 100_000)},
		{"/api/auth/backchannel-logout", form, fields.String()},
	}
	for _, tc := range cases {
		status, body := send(t, c, "POST", a.url(tc.path), tc.ct, tc.body, hdr)
		require.Equal(t, http.StatusRequestEntityTooLarge, status, "%s %d bytes: %s", tc.path, len(tc.body), body)
		require.NotContains(t, body, "MissingCSRF")
		switch {
		case tc.path == "/api/auth/session":
			require.Equal(t, "null", body)
		case strings.HasPrefix(tc.path, "/api/auth/signin"), strings.HasPrefix(tc.path, "/api/auth/signout"),
			strings.HasPrefix(tc.path, "/api/auth/callback"):
			require.Contains(t, body, "error=Configuration")
		default:
			require.Contains(t, body, `"code":"body_too_large"`)
		}
	}
	// The session was not signed out by any of them.
	status, body := send(t, c, "GET", a.url("/api/auth/session"), "", "", nil)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "alice@example.com")
	// At the limits: parsed (a sign-in starts).
	var atLimit strings.Builder
	atLimit.WriteString("csrfToken=" + tok)
	for i := 1; i < 64; i++ {
		fmt.Fprintf(&atLimit, "&f%d=1", i)
	}
	status, body = send(t, c, "POST", a.url("/api/auth/signin/keycloak"), form, atLimit.String(), hdr)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "kc.example.com", "64 fields are parsed and the sign-in starts")
	t.Logf("%d oversized bodies (100 KB, 10,000 form fields, 10,000 JSON keys) → 413; 64 fields → 200", len(cases))
}

// TestLongCallbackURLIsRefused: a callbackUrl of 2 KiB + 1 is refused like
// any invalid one (no sign-in starts, no cookie carries it); 2 KiB passes.
func TestLongCallbackURLIsRefused(t *testing.T) {
	a, _ := newEdgeApp(t, fakeStores(), "")
	c := browser(t)
	tok := csrfToken(t, c, a)
	at := a.url("/" + strings.Repeat("a", 2048-len(a.url("/"))))
	over := at + "b"
	require.Len(t, at, 2048)
	hdr := map[string]string{"X-Auth-Return-Redirect": "1"}
	form := "application/x-www-form-urlencoded"
	status, body := send(t, c, "POST", a.url("/api/auth/signin/keycloak"), form,
		url.Values{"csrfToken": {tok}, "callbackUrl": {over}}.Encode(), hdr)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "error=Configuration", "2 KiB + 1 is refused")
	status, body = send(t, c, "POST", a.url("/api/auth/signin/keycloak?callbackUrl="+url.QueryEscape(over)), form,
		url.Values{"csrfToken": {tok}}.Encode(), hdr)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "error=Configuration", "in the query too")
	status, body = send(t, c, "POST", a.url("/api/auth/signin/keycloak"), form,
		url.Values{"csrfToken": {tok}, "callbackUrl": {at}}.Encode(), hdr)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "kc.example.com", "2 KiB is accepted")
	// GET /session?callbackUrl=<long> does not copy it into the cookie.
	resp, err := c.Get(a.url("/api/auth/session?callbackUrl=" + url.QueryEscape(over)))
	require.NoError(t, err)
	resp.Body.Close()
	for _, sc := range resp.Header.Values("Set-Cookie") {
		require.NotContains(t, sc, "bbb", sc)
		require.LessOrEqual(t, len(sc), 4096)
	}
	t.Logf("callbackUrl of %d bytes accepted, %d refused", len(at), len(over))
}
