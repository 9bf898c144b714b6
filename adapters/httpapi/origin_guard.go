package httpapi

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
)

// errCrossOrigin is raised when the browser says an unsafe request comes
// from another origin.
var errCrossOrigin = errors.New("cross-origin request refused")

// crossOrigin reports an unsafe request a browser marked as not coming from
// the app's own origin (SECURITY.md A.6.2): Sec-Fetch-Site other than
// same-origin or none (cross-site, and same-site too: a sibling subdomain is
// another origin, and the app is served same-origin by contract), or an
// Origin header that is not AUTH_URL's origin ("null" included). A request
// with neither header (an old browser, curl) is not judged here and still
// needs the CSRF token or header of its route.
//
// One exception: authbff's pages are served with Referrer-Policy:
// no-referrer, under which a browser sends "Origin: null" even on a form
// POST to its own origin (the Fetch standard serialises the origin as null
// for that policy). Such a request is let through only when the browser's
// own Sec-Fetch-Site, which a page cannot set, says same-origin.
func (a *authAPI) crossOrigin(r *http.Request) bool {
	site := r.Header.Get("Sec-Fetch-Site")
	switch site {
	case "", "same-origin", "none":
	default:
		return true
	}
	o, ok := r.Header["Origin"]
	switch {
	case !ok:
		return false
	case len(o) != 1:
		return true
	case o[0] == a.origin || sameOrigin(o[0], a.origin):
		return false
	default:
		return o[0] != "null" || site != "same-origin"
	}
}

// originGuard refuses every cross-origin unsafe request (crossOrigin) before
// it reaches a handler, on every route, the Auth.js POSTs, authbff's own
// routes and the proxy alike, so no route can forget it. Two routes are
// exempt because no browser session rides on them: the IdP's form_post
// callback, which is a cross-site POST by design (it is bound to the
// browser by the sign-in's own binding cookie and state), and the
// back-channel logout, a server-to-server call without cookies.
func (a *authAPI) originGuard() gin.HandlerFunc {
	exempt := map[string]bool{
		a.basePath + "/callback/:provider": true,
		a.basePath + "/backchannel-logout": true,
	}
	return func(c *gin.Context) {
		if !unsafeMethod(c.Request.Method) || exempt[c.FullPath()] || !a.crossOrigin(c.Request) {
			c.Next()
			return
		}
		_ = c.Error(errCrossOrigin)
		if a.isAuthJSRoute(c.Request.URL.Path) {
			a.refuseAuthJS(c, http.StatusForbidden, "AccessDenied")
			return
		}
		respondError(c, errCrossOrigin)
	}
}

// isAuthJSRoute reports a path under the base path whose first segment is
// an Auth.js action: those answer in Auth.js's shapes, not authbff's.
func (a *authAPI) isAuthJSRoute(path string) bool {
	rest, ok := strings.CutPrefix(path, a.basePath+"/")
	if !ok {
		return false
	}
	action, _, _ := strings.Cut(rest, "/")
	return authActions[action]
}

// refuseAuthJS answers a refused Auth.js request in the shape its client
// reads: POST /session (update()) gets a JSON null, like Auth.js's own
// refusal of that route; every other action gets {"url": error page} with
// errType, which the next-auth client's signIn/signOut navigate to whatever
// the status, so the user lands on authbff's error page instead of a raw
// body. The status stays a real 4xx, and no cookie is set.
func (a *authAPI) refuseAuthJS(c *gin.Context, status int, errType string) {
	c.Header("Cache-Control", "no-store")
	if strings.TrimSuffix(c.Request.URL.Path, "/") == a.basePath+"/session" {
		writeJSON(c, status, nil, false)
		return
	}
	writeJSON(c, status, map[string]string{"url": a.origin + a.basePath + "/error?error=" + errType}, false)
}

// sameOrigin reports whether an Origin header names origin, compared as
// browsers serialise origins (case of scheme and host, default ports).
func sameOrigin(header, origin string) bool {
	u, err := url.Parse(header)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil {
		return false
	}
	return canonicalOrigin(u.Scheme, u.Host) == origin
}
