package authjsclient

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

var (
	kcFormAction = regexp.MustCompile(`(?s)<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"`)
	kcHidden     = regexp.MustCompile(`<input[^>]*type="hidden"[^>]*>`)
	attrName     = regexp.MustCompile(`name="([^"]*)"`)
	attrValue    = regexp.MustCompile(`value="([^"]*)"`)
)

// KeycloakLogin follows an authorization URL through Keycloak's login pages
// (identity-first: the username page, then the password page) and returns
// the URL Keycloak finally redirects to (the client's redirect URI with
// code, state, session_state and iss), without fetching it. If Keycloak
// already has an SSO session in this browser, no page is shown.
func (c *Client) KeycloakLogin(authURL, username, password, stopAt string) (string, error) {
	at := authURL
	var page Response
	for step := 0; step < 10; step++ {
		// Follow redirects until a page (or the client's redirect URI).
		for hops := 0; ; hops++ {
			if strings.HasPrefix(at, stopAt) {
				return at, nil
			}
			if hops > 10 {
				return "", fmt.Errorf("too many redirects at %s", at)
			}
			r, err := c.Get(at)
			if err != nil {
				return "", err
			}
			if loc := r.Header.Get("Location"); r.Status/100 == 3 && loc != "" {
				if at, err = resolve(at, loc); err != nil {
					return "", err
				}
				continue
			}
			page = r
			break
		}
		// Submit the login form on this page; the answer is either the next
		// page (200) or a redirect.
		for {
			action, form, err := loginForm(page, at, username, password)
			if err != nil {
				return "", err
			}
			req, _ := http.NewRequest(http.MethodPost, action, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r, err := c.Do(req)
			if err != nil {
				return "", err
			}
			if loc := r.Header.Get("Location"); r.Status/100 == 3 && loc != "" {
				if at, err = resolve(action, loc); err != nil {
					return "", err
				}
				break
			}
			page, at = r, action
		}
	}
	return "", fmt.Errorf("login did not finish")
}

// loginForm extracts Keycloak's login form and fills it in.
func loginForm(page Response, at, username, password string) (string, url.Values, error) {
	m := kcFormAction.FindSubmatch(page.Body)
	if m == nil {
		return "", nil, fmt.Errorf("no Keycloak login form at %s (%d): %.500s", at, page.Status, page.Body)
	}
	action, err := resolve(at, html.UnescapeString(string(m[1])))
	if err != nil {
		return "", nil, err
	}
	form := url.Values{}
	for _, in := range kcHidden.FindAll(page.Body, -1) {
		if n := attrName.FindSubmatch(in); n != nil {
			v := ""
			if vm := attrValue.FindSubmatch(in); vm != nil {
				v = html.UnescapeString(string(vm[1]))
			}
			form.Set(string(n[1]), v)
		}
	}
	body := string(page.Body)
	if strings.Contains(body, `name="username"`) {
		form.Set("username", username)
	}
	if strings.Contains(body, `name="password"`) {
		form.Set("password", password)
	}
	if strings.Contains(body, "Invalid username or password") {
		return "", nil, fmt.Errorf("keycloak refused the credentials of %q", username)
	}
	return action, form, nil
}

// SignInKeycloak runs the whole browser sign-in: signIn("keycloak") on
// authbff, Keycloak's login pages, and the callback. It returns where
// authbff sent the browser.
func (c *Client) SignInKeycloak(username, password, callbackURL string) (string, error) {
	authURL, _, err := c.SignIn("keycloak", callbackURL, nil)
	if err != nil {
		return "", err
	}
	cb, err := c.KeycloakLogin(authURL, username, password, c.url("/callback/"))
	if err != nil {
		return "", err
	}
	return c.finishCallback(cb)
}
