package authjsclient

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

var devAuthRequestID = regexp.MustCompile(`name="authRequestID" value="([^"]+)"`)

// SignInDevIdP signs in as a demo user of the embedded development IdP and
// returns where authbff finally redirected the browser.
func (c *Client) SignInDevIdP(username, callbackURL string) (string, error) {
	authURL, _, err := c.SignIn("keycloak", callbackURL, nil)
	if err != nil {
		return "", err
	}
	callback := c.url("/callback/")
	at, err := c.Follow(authURL, callback, func(page Response, at string) (string, error) {
		m := devAuthRequestID.FindSubmatch(page.Body)
		if m == nil {
			return "", fmt.Errorf("no login form at %s (%d): %.300s", at, page.Status, page.Body)
		}
		u, _ := url.Parse(at)
		action := u.Scheme + "://" + u.Host + "/login/select"
		next, _, err := c.PostFormFollow(action, url.Values{"authRequestID": {string(m[1])}, "username": {username}})
		return next, err
	})
	if err != nil {
		return "", err
	}
	return c.finishCallback(at)
}

// finishCallback delivers the IdP's redirect to authbff's callback and
// returns authbff's redirect target.
func (c *Client) finishCallback(callbackURL string) (string, error) {
	if !strings.HasPrefix(callbackURL, c.url("/callback/")) {
		return "", fmt.Errorf("IdP did not redirect to the callback: %s", callbackURL)
	}
	r, err := c.Get(callbackURL)
	if err != nil {
		return "", err
	}
	if r.Status != 302 {
		return "", fmt.Errorf("callback answered %d: %.300s", r.Status, r.Body)
	}
	return r.Header.Get("Location"), nil
}

// SignInAutoApprove signs in through a provider whose authorization endpoint
// redirects straight back with a code, as test/fakeop's ServeLogins does,
// and returns where authbff finally redirected the browser.
func (c *Client) SignInAutoApprove(callbackURL string, params url.Values) (string, error) {
	authURL, _, err := c.SignIn("keycloak", callbackURL, params)
	if err != nil {
		return "", err
	}
	at, err := c.Follow(authURL, c.url("/callback/"), func(page Response, at string) (string, error) {
		return "", fmt.Errorf("the provider did not redirect back from %s (%d): %.300s", at, page.Status, page.Body)
	})
	if err != nil {
		return "", err
	}
	return c.finishCallback(at)
}
