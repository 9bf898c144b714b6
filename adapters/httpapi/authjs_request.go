package httpapi

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
)

// maxAuthBody caps Auth.js POST bodies (a CSRF token, a callback URL and a
// few options): anything bigger is refused before parsing.
const maxAuthBody = 64 << 10

// authRequest is the per-request state Auth.js's init() computes for every
// /api/auth action (contract C2, C3): the CSRF token, whether the POST
// carried it, the callback URL, and the cookies queued for the response.
type authRequest struct {
	c            *gin.Context
	api          *authAPI
	body         map[string]string
	data         json.RawMessage // POST /session's "data"
	csrfToken    string
	csrfVerified bool
	callbackURL  string
	queued       []func(http.ResponseWriter)
	badCallback  bool
}

// newAuthRequest parses the body and runs Auth.js's init steps.
func (a *authAPI) newAuthRequest(c *gin.Context) *authRequest {
	r := &authRequest{c: c, api: a}
	if c.Request.Method == http.MethodPost {
		r.body = map[string]string{}
		r.parseBody()
	}
	// CSRF: reuse a valid cookie, else mint one and queue its Set-Cookie.
	if tok := a.csrf.verifyCookie(rawCookie(c.Request, a.cookies.csrf)); tok != "" {
		r.csrfToken = tok
	} else {
		tok, wire := a.csrf.mint()
		r.csrfToken = tok
		r.queue(func(w http.ResponseWriter) { a.cookies.set(w, a.cookies.csrf, wire, zeroTime, 0) })
	}
	r.csrfVerified = c.Request.Method == http.MethodPost && matches(r.csrfToken, r.body["csrfToken"])

	// Callback URL: body, then query, then the cookie, then the origin.
	cookieCB := rawCookie(c.Request, a.cookies.callbackURL)
	if cookieCB == a.originCookie {
		cookieCB = a.origin // the usual value, without decoding it
	} else {
		cookieCB = cookieValue(c.Request, a.cookies.callbackURL)
	}
	raw, fromRequest := r.body["callbackUrl"], true
	if raw == "" && c.Request.URL.RawQuery != "" {
		raw = c.Query("callbackUrl")
	}
	if raw == "" {
		raw, fromRequest = cookieCB, false
	}
	cb, err := resolveCallbackURL(raw, a.origin)
	if err != nil {
		r.badCallback = fromRequest
		cb = a.origin
	}
	r.callbackURL = cb
	if cookieCB != cb {
		r.queue(func(w http.ResponseWriter) {
			a.cookies.set(w, a.cookies.callbackURL, url.QueryEscape(cb), zeroTime, 0)
		})
	}
	return r
}

func (r *authRequest) queue(f func(http.ResponseWriter)) { r.queued = append(r.queued, f) }

// flush writes the queued cookies.
func (r *authRequest) flush() {
	for _, f := range r.queued {
		f(r.c.Writer)
	}
	r.queued = nil
}

// parseBody reads a JSON or form body into a flat map, as Auth.js's getBody.
func (r *authRequest) parseBody() {
	req := r.c.Request
	ct, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type"))
	raw, err := io.ReadAll(io.LimitReader(req.Body, maxAuthBody+1))
	if err != nil || len(raw) > maxAuthBody {
		return
	}
	switch ct {
	case "application/json":
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return
		}
		for k, v := range m {
			if k == "data" {
				r.data = v
				continue
			}
			var s string
			if json.Unmarshal(v, &s) == nil {
				r.body[k] = s
			} else {
				r.body[k] = strings.TrimSpace(string(v))
			}
		}
	case "application/x-www-form-urlencoded":
		vals, err := url.ParseQuery(string(raw))
		if err != nil {
			return
		}
		for k := range vals {
			r.body[k] = vals.Get(k)
		}
	}
}

// wantsJSON reports whether a redirect should be answered as 200 {url}:
// the v5 client's X-Auth-Return-Redirect header, or the v4 client's
// json=true body field.
func (r *authRequest) wantsJSON() bool {
	return r.c.GetHeader("X-Auth-Return-Redirect") != "" || r.body["json"] == "true"
}

// redirect answers a successful redirect: 302 Location, or 200 {"url"} with
// the same headers (Set-Cookie and Location included, as Auth.js answers)
// when the client asked for JSON. Queued cookies go out with it.
func (r *authRequest) redirect(location string) { r.redirectTo(location, true) }

// redirectCarryingToken is redirect for a URL that carries a token: the
// sign-out's end-session URL with the ID token as id_token_hint. Its JSON
// answer has no Location header, unlike Auth.js's: on a 200 the header
// steers nothing (the client reads url from the body), and proxies and
// access logs record headers, so the token stays in one place
// (docs/security.md R14).
func (r *authRequest) redirectCarryingToken(location string) { r.redirectTo(location, false) }

func (r *authRequest) redirectTo(location string, locationOnJSON bool) {
	r.flush()
	if r.wantsJSON() {
		if locationOnJSON {
			r.c.Header("Location", location)
		}
		writeJSON(r.c, http.StatusOK, map[string]string{"url": location}, false)
		return
	}
	r.c.Header("Location", location)
	r.c.Status(http.StatusFound)
	r.c.Writer.WriteHeaderNow()
	r.c.Abort()
}

// fail answers an Auth.js error (contract C4): a redirect to
// {basePath}/signin?error=Type for sign-in errors or {basePath}/error?error=Type
// otherwise; with X-Auth-Return-Redirect, 200 {url} without cookies.
func (r *authRequest) fail(errType string) {
	kind := "error"
	if signInErrors[errType] {
		kind = "signin"
	}
	target := r.api.origin + r.api.basePath + "/" + kind + "?error=" + url.QueryEscape(errType)
	if r.wantsJSON() {
		writeJSON(r.c, http.StatusOK, map[string]string{"url": target}, false)
		return
	}
	r.c.Redirect(http.StatusFound, target)
	r.c.Abort()
}

// signInErrors are Auth.js's SignInError kinds, sent to the sign-in page.
var signInErrors = map[string]bool{
	"MissingCSRF": true, "OAuthCallbackError": true, "OAuthAccountNotLinked": true,
	"CredentialsSignin": true, "AccountNotLinked": true, "OAuthSignInError": true,
}

// writeJSON writes Content-Type: application/json without a charset, as
// Auth.js does, optionally with its no-store headers.
func writeJSON(c *gin.Context, status int, v any, noStore bool) {
	b, _ := json.Marshal(v)
	writeJSONBytes(c, status, b, noStore)
}

// writeJSONBytes is writeJSON for a body already encoded.
func writeJSONBytes(c *gin.Context, status int, b []byte, noStore bool) {
	if noStore {
		setNoStore(c)
	}
	hdrJSON.set(c.Writer.Header())
	c.Status(status)
	_, _ = c.Writer.Write(b)
	c.Abort()
}

func setNoStore(c *gin.Context) {
	h := c.Writer.Header()
	hdrNoStore.set(h)
	hdrExpires0.set(h)
	hdrNoCache.set(h)
}
