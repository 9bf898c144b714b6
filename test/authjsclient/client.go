// Package authjsclient drives authbff's /api/auth routes exactly as the
// next-auth/react v5 client does (getCsrfToken, getProviders, signIn,
// getSession, update, signOut), over real HTTP with a cookie jar, so tests
// and the load tool exercise the wire contract the frontend relies on.
package authjsclient

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"
)

// Client is one browser.
type Client struct {
	HTTP *http.Client
	// Base is the app origin, e.g. "http://127.0.0.1:4000".
	Base string
	// BasePath is the Auth.js base path, "/api/auth".
	BasePath string
}

// New returns a browser with an empty cookie jar that does not follow
// redirects by itself (tests look at every hop).
func New(base string) *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{
		HTTP: &http.Client{Jar: jar, Timeout: 30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		Base: strings.TrimSuffix(base, "/"), BasePath: "/api/auth",
	}
}

func (c *Client) url(action string) string { return c.Base + c.BasePath + action }

// Response is a decoded answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v.
func (r Response) JSON(v any) error { return json.Unmarshal(r.Body, v) }

// Do sends a request and reads the whole answer.
func (c *Client) Do(req *http.Request) (Response, error) {
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}, err
}

// Get fetches an absolute URL.
func (c *Client) Get(u string) (Response, error) {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return Response{}, err
	}
	return c.Do(req)
}

// CSRFToken is getCsrfToken().
func (c *Client) CSRFToken() (string, error) {
	req, _ := http.NewRequest(http.MethodGet, c.url("/csrf"), nil)
	req.Header.Set("Content-Type", "application/json")
	r, err := c.Do(req)
	if err != nil {
		return "", err
	}
	var body struct {
		CSRFToken string `json:"csrfToken"`
	}
	if err := r.JSON(&body); err != nil {
		return "", fmt.Errorf("csrf: %w: %s", err, r.Body)
	}
	return body.CSRFToken, nil
}

// Providers is getProviders().
func (c *Client) Providers() (map[string]map[string]string, error) {
	r, err := c.Get(c.url("/providers"))
	if err != nil {
		return nil, err
	}
	var out map[string]map[string]string
	return out, r.JSON(&out)
}

// SignIn is signIn(provider, {callbackUrl}, authorizationParams) up to the
// server's answer: it returns the {url} the client would navigate to.
func (c *Client) SignIn(provider, callbackURL string, params url.Values) (string, Response, error) {
	tok, err := c.CSRFToken()
	if err != nil {
		return "", Response{}, err
	}
	form := url.Values{"csrfToken": {tok}, "callbackUrl": {callbackURL}}
	r, err := c.postForm(c.url("/signin/"+provider+"?"+params.Encode()), form)
	if err != nil {
		return "", r, err
	}
	var body struct {
		URL string `json:"url"`
	}
	if err := r.JSON(&body); err != nil {
		return "", r, fmt.Errorf("signin: %w: %s", err, r.Body)
	}
	return body.URL, r, nil
}

// SignOut is signOut({callbackUrl}): it returns the {url} answer.
func (c *Client) SignOut(callbackURL string) (string, Response, error) {
	tok, err := c.CSRFToken()
	if err != nil {
		return "", Response{}, err
	}
	r, err := c.postForm(c.url("/signout"), url.Values{"csrfToken": {tok}, "callbackUrl": {callbackURL}})
	if err != nil {
		return "", r, err
	}
	var body struct {
		URL string `json:"url"`
	}
	return body.URL, r, r.JSON(&body)
}

func (c *Client) postForm(u string, form url.Values) (Response, error) {
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Auth-Return-Redirect", "1")
	return c.Do(req)
}

// Session is getSession(): nil when the server answers null.
func (c *Client) Session() (map[string]any, Response, error) {
	req, _ := http.NewRequest(http.MethodGet, c.url("/session"), nil)
	req.Header.Set("Content-Type", "application/json")
	r, err := c.Do(req)
	if err != nil {
		return nil, r, err
	}
	if r.Status != http.StatusOK {
		return nil, r, fmt.Errorf("session: status %d: %s", r.Status, r.Body)
	}
	var s map[string]any
	return s, r, r.JSON(&s)
}

// Update is update(data): POST /session with the CSRF token.
func (c *Client) Update(data any) (map[string]any, Response, error) {
	tok, err := c.CSRFToken()
	if err != nil {
		return nil, Response{}, err
	}
	b, _ := json.Marshal(map[string]any{"csrfToken": tok, "data": data})
	req, _ := http.NewRequest(http.MethodPost, c.url("/session"), bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	r, err := c.Do(req)
	if err != nil {
		return nil, r, err
	}
	var s map[string]any
	if r.Status == http.StatusOK {
		err = r.JSON(&s)
	}
	return s, r, err
}

// Follow follows redirects from u, calling visit for every page that is not
// a redirect, until a page's location starts with stop (returned, not
// fetched) or visit returns a next URL of "" (done).
func (c *Client) Follow(u, stop string, visit func(page Response, at string) (next string, err error)) (string, error) {
	for hops := 0; hops < 20; hops++ {
		if stop != "" && strings.HasPrefix(u, stop) {
			return u, nil
		}
		r, err := c.Get(u)
		if err != nil {
			return "", err
		}
		if loc := r.Header.Get("Location"); r.Status/100 == 3 && loc != "" {
			next, err := resolve(u, loc)
			if err != nil {
				return "", err
			}
			u = next
			continue
		}
		next, err := visit(r, u)
		if err != nil || next == "" {
			return u, err
		}
		u = next
	}
	return "", errors.New("too many redirects")
}

// PostFormFollow posts a form (as a browser would, without the
// X-Auth-Return-Redirect header) and returns the redirect target.
func (c *Client) PostFormFollow(action string, form url.Values) (string, Response, error) {
	req, _ := http.NewRequest(http.MethodPost, action, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r, err := c.Do(req)
	if err != nil {
		return "", r, err
	}
	loc := r.Header.Get("Location")
	if loc == "" {
		return "", r, fmt.Errorf("form post answered %d without a redirect: %.300s", r.Status, r.Body)
	}
	next, err := resolve(action, loc)
	return next, r, err
}

func resolve(base, loc string) (string, error) {
	b, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	l, err := url.Parse(loc)
	if err != nil {
		return "", err
	}
	return b.ResolveReference(l).String(), nil
}
