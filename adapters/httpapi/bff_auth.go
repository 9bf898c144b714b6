package httpapi

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/authbff/authbff/application"
	"github.com/authbff/authbff/domain"
)

// errCSRF is raised when a cookie-authenticated unsafe request lacks proof
// that it came from the app itself.
var errCSRF = errors.New("csrf check failed")

// errRateLimited is raised when a session exceeds its token-endpoint rate.
var errRateLimited = errors.New("rate limited")

// sameOriginOrHeader is authbff's CSRF rule for its own (non-Auth.js) routes:
// the custom header X-CSRF: 1, which a cross-site form cannot send and a
// cross-site fetch cannot send without a CORS preflight authbff never
// approves; or a browser-verified same-origin request (Sec-Fetch-Site, or an
// Origin header equal to the app's origin).
func (a *authAPI) sameOriginOrHeader(c *gin.Context) bool {
	if c.GetHeader("X-CSRF") == "1" {
		return true
	}
	if c.GetHeader("Sec-Fetch-Site") == "same-origin" {
		return true
	}
	return c.GetHeader("Origin") == a.origin
}

// requireSession resolves the session cookie for the BFF routes, answering
// 401 (no or expired session) or 503 (database down) itself.
func (a *authAPI) requireSession(c *gin.Context) (application.SessionInfo, bool) {
	token := a.cookies.sessionToken(c.Request)
	if token == "" {
		respondError(c, domain.ErrSessionNotFound)
		return application.SessionInfo{}, false
	}
	info, err := a.h.GetSession.Handle(c.Request.Context(), application.GetSession{Token: token})
	if err != nil {
		if errors.Is(err, domain.ErrSessionNotFound) || errors.Is(err, domain.ErrSessionExpired) {
			a.cookies.clearSession(c.Writer, c.Request)
		}
		respondError(c, err)
		return application.SessionInfo{}, false
	}
	return info, true
}

// requireSessionForChange is requireSession for state-changing routes: the
// CSRF check first (403 csrf_required), then the session.
func (a *authAPI) requireSessionForChange(c *gin.Context) (application.SessionInfo, bool) {
	if !a.sameOriginOrHeader(c) {
		respondError(c, errCSRF)
		return application.SessionInfo{}, false
	}
	return a.requireSession(c)
}

// unsafeMethod reports methods that change state.
func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}
