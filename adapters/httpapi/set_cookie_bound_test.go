package httpapi_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestNoSetCookieOver4096 calls every registered route with every method it
// serves, signed in, with the longest inputs that reach a cookie (a
// callbackUrl at the 2 KiB bound made of characters URL-encoding triples, in
// the body, the query and the callback-url cookie, and one just over it),
// and checks no Set-Cookie authbff writes exceeds 4096 bytes.
func TestNoSetCookieOver4096(t *testing.T) {
	a, engine := newEdgeApp(t, fakeStores(), "http://127.0.0.1:1")
	origin := a.url("")
	worst := func(n int) string { return origin + "/?" + strings.Repeat(":", n-len(origin)-2) }
	inputs := []string{worst(2048), worst(2049), worst(1020), worst(1100), origin + "/" + strings.Repeat("a", 2048-len(origin)-1),
		origin + "/" + strings.Repeat("%41", 682)}
	params := strings.NewReplacer(":provider", "keycloak", ":id", "some-session", ":user", "alice@example.com", "*path", "x")
	longest, calls := 0, 0
	for i, cb := range append(inputs, inputs...) {
		c := signIn(t, a, alice)
		tok := csrfToken(t, c, a)
		if i >= len(inputs) { // the second round plants it in the cookie too
			u, _ := url.Parse(origin)
			c.Jar.SetCookies(u, []*http.Cookie{{Name: "authjs.callback-url", Value: url.QueryEscape(cb), Path: "/"}})
		}
		for _, rt := range engine.Routes() {
			path := params.Replace(rt.Path)
			body := url.Values{"csrfToken": {tok}, "callbackUrl": {cb}}.Encode()
			status, _, hdr := sendFull(t, c, rt.Method, a.url(path)+"?callbackUrl="+url.QueryEscape(cb),
				"application/x-www-form-urlencoded", body,
				map[string]string{"X-CSRF": "1", "Origin": origin, "X-Auth-Return-Redirect": "1"})
			calls++
			for _, sc := range hdr.Values("Set-Cookie") {
				require.LessOrEqual(t, len(sc), 4096, "%s %s (%d): %.120s…", rt.Method, path, status, sc)
				longest = max(longest, len(sc))
			}
		}
	}
	t.Logf("%d calls over %d routes × %d inputs: longest Set-Cookie %d bytes (bound 4096)",
		calls, len(engine.Routes()), 2*len(inputs), longest)
}

// sendFull is send returning the response headers too.
func sendFull(t *testing.T, c *http.Client, method, target, contentType, body string, header map[string]string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, target, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}
