package httpapi_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/adapters/httpapi"
)

func getPage(t *testing.T, c *http.Client, target string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(target)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func formAction(t *testing.T, resp *http.Response) string {
	t.Helper()
	for _, d := range strings.Split(resp.Header.Get("Content-Security-Policy"), ";") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(d), "form-action "); ok {
			return v
		}
	}
	t.Fatalf("no form-action in %q", resp.Header.Get("Content-Security-Policy"))
	return ""
}

// TestPagesAllowExactlyTheIdPOrigins: Chromium applies form-action to the
// redirect that answers the form's POST, so each page names the one IdP
// origin its form leads to, and nothing else.
func TestPagesAllowExactlyTheIdPOrigins(t *testing.T) {
	a := newTestApp(t)
	c := browser(t)

	resp, body := getPage(t, c, a.url("/api/auth/signin?callbackUrl=/x"))
	require.Equal(t, "'self' https://kc.example.com", formAction(t, resp))
	require.Contains(t, body, "Sign in with Keycloak")

	resp, body = getPage(t, c, a.url("/api/auth/signin?error=OAuthCallbackError"))
	require.Equal(t, "'self' https://kc.example.com", formAction(t, resp), "the error's retry button reaches the IdP too")
	require.Contains(t, body, `class="err"`)

	resp, body = getPage(t, c, a.url("/api/auth/signout"))
	require.Equal(t, "'self' https://kc.example.com", formAction(t, resp))
	require.Contains(t, body, "Are you sure you want to sign out?")
	require.NotContains(t, body, `class="err"`, "the sign-out question is not an error")

	resp, body = getPage(t, c, a.url("/api/auth/error?error=AccessDenied"))
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Equal(t, "'none'", formAction(t, resp), "the error page has no form")
	require.Contains(t, body, "You do not have permission to sign in.")
}

// TestSignOutReturnsThroughTheCallbackToTheCallbackURL: the IdP gets
// authbff's one post-logout URI and a state; the callback sends the browser
// to the callbackUrl given at sign-out, and never off-site.
func TestSignOutReturnsThroughTheCallbackToTheCallbackURL(t *testing.T) {
	a := newTestApp(t)
	signOut := func(callbackURL string) url.Values {
		c := signIn(t, a, alice)
		out := postForm(t, c, a.url("/api/auth/signout"), url.Values{"csrfToken": {csrfToken(t, c, a)}, "callbackUrl": {callbackURL}}, true)
		var body map[string]string
		readJSON(t, out, &body)
		require.Equal(t, http.StatusOK, out.StatusCode)
		u, err := url.Parse(body["url"])
		require.NoError(t, err)
		q := u.Query()
		require.Equal(t, a.url("/api/auth/signout/callback"), q.Get("post_logout_redirect_uri"))
		require.NotEmpty(t, q.Get("state"))
		return q
	}
	back := func(state string) string {
		resp, _ := getPage(t, browser(t), a.url("/api/auth/signout/callback?state="+url.QueryEscape(state)))
		require.Equal(t, http.StatusFound, resp.StatusCode)
		require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
		return resp.Header.Get("Location")
	}

	state := signOut("/goodbye?x=1").Get("state")
	require.Equal(t, a.url("/goodbye?x=1"), back(state))
	require.Equal(t, a.url("/goodbye?x=1"), back(state), "a replay goes to the same place, nowhere else")
	require.Equal(t, a.srv.URL, back("https://evil.example/"), "a state authbff did not sign goes to the origin")
	require.Equal(t, a.srv.URL, back(state[:len(state)-2]+"AA"), "a tampered MAC goes to the origin")
	require.Equal(t, a.srv.URL, back(""))
	require.Equal(t, a.srv.URL, back(signOut("https://evil.example/x").Get("state")), "an off-site callbackUrl became the origin at sign-out")
	require.Equal(t, a.url("/app/page"), back(signOut(a.url("/app/page")).Get("state")))
}

// TestPostLogoutRedirectURLOverridesTheCallback: with
// AUTH_POST_LOGOUT_REDIRECT_URL set, Keycloak returns there directly (no
// state), and the sign-out page's form may reach its origin too.
func TestPostLogoutRedirectURLOverridesTheCallback(t *testing.T) {
	a := newTestAppWith(t, func(c *httpapi.Config) { c.PostLogoutRedirectURL = "https://www.example.com/bye" })
	c := signIn(t, a, alice)
	out := postForm(t, c, a.url("/api/auth/signout"), url.Values{"csrfToken": {csrfToken(t, c, a)}, "callbackUrl": {"/goodbye"}}, true)
	var body map[string]string
	readJSON(t, out, &body)
	u, err := url.Parse(body["url"])
	require.NoError(t, err)
	require.Equal(t, "https://www.example.com/bye", u.Query().Get("post_logout_redirect_uri"))
	require.Empty(t, u.Query().Get("state"))

	resp, _ := getPage(t, c, a.url("/api/auth/signout"))
	require.Equal(t, "'self' https://kc.example.com https://www.example.com", formAction(t, resp))
}
