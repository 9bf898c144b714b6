package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// FuzzCallbackQuery is docs/security.md R4's callback target. A browser
// with a sign-in pending (its state and PKCE cookie set) arrives at
// /api/auth/callback/keycloak with any query at all; in the query, STATE
// stands for the pending state and CODE for the code the IdP issued for it,
// so the fuzzer can also mix real values with its own. Whatever the query:
// never a 5xx, every redirect stays on authbff's origin (the error page or
// the callback URL the sign-in named), and a session cookie is set only
// when the query's state is the pending one and its code is the IdP's code
// for that state.
func FuzzCallbackQuery(f *testing.F) {
	a := newTestApp(f)
	for _, seed := range []string{
		"code=CODE&state=STATE&iss=https%3A%2F%2Fkc.example.com%2Frealms%2Fcrm",
		"code=CODE&state=STATE",
		"code=CODE&state=other",
		"code=code-STATE&state=STATE",
		"error=access_denied&state=STATE",
		"error=login_required&error_description=%3Cscript%3E&state=STATE",
		"code=CODE&state=STATE&iss=https%3A%2F%2Fevil.example",
		"code=CODE&code=x&state=STATE&state=STATE",
		"state=%ZZ&code=%",
		"",
	} {
		f.Add(seed)
	}
	origin := a.srv.URL
	f.Fuzz(func(t *testing.T, raw string) {
		c := browser(t)
		csrf := csrfToken(t, c, a)
		resp := postForm(t, c, a.url("/api/auth/signin/keycloak"), url.Values{"csrfToken": {csrf},
			"callbackUrl": {a.url("/dashboard")}}, true)
		resp.Body.Close()
		state := a.idp.LastState()
		code := ""
		if strings.Contains(raw, "CODE") {
			code = a.idp.Authorize(state, alice)
			raw = strings.ReplaceAll(raw, "CODE", url.QueryEscape(code))
		}
		raw = strings.ReplaceAll(raw, "STATE", url.QueryEscape(state))
		req, err := http.NewRequest(http.MethodGet, a.url("/api/auth/callback/keycloak"), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.URL.RawQuery = raw
		resp, err = c.Do(req)
		if err != nil {
			return // a query net/http will not send
		}
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("query %q: %d", raw, resp.StatusCode)
		}
		if loc := resp.Header.Get("Location"); loc != "" {
			target, err := req.URL.Parse(loc)
			if err != nil || target.Scheme+"://"+target.Host != origin {
				t.Fatalf("query %q: redirect to %q leaves %s", raw, loc, origin)
			}
		}
		q, _ := url.ParseQuery(raw)
		for _, ck := range resp.Cookies() {
			if ck.Name == "authjs.session-token" && ck.Value != "" && (code == "" || q.Get("state") != state || q.Get("code") != code) {
				t.Fatalf("query %q set a session cookie without the IdP's code for the pending state", raw)
			}
		}
	})
}
