package httpapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/authbff/authbff/application"
)

// signout is POST /signout: CSRF check, delete the session row, clear every
// session cookie, and answer the IdP's end-session URL (with id_token_hint)
// so the stock client, which just navigates to the url, ends the Keycloak
// session too. The IdP returns the browser to /signout/callback with a
// state naming the callback URL (or to AUTH_POST_LOGOUT_REDIRECT_URL when
// set). Without a session the url is the callback URL.
func (a *authAPI) signout(c *gin.Context) {
	r := a.newAuthRequest(c)
	if !r.csrfVerified {
		r.fail("MissingCSRF")
		return
	}
	target := r.callbackURL
	if a.h.SignOut != nil {
		cmd := application.SignOut{Token: a.cookies.sessionToken(c.Request), PostLogoutRedirectURI: a.postLogoutRedirect}
		if cmd.PostLogoutRedirectURI == "" {
			cmd.PostLogoutRedirectURI = a.signoutCallbackURI()
			cmd.State = a.csrf.signoutState(r.callbackURL, time.Now())
		}
		res, err := a.h.SignOut.Handle(c.Request.Context(), cmd)
		if err != nil {
			// The row could not be deleted: say so rather than pretend the
			// user is signed out (the session would stay valid for anyone
			// holding its cookie). The cookie is kept so a retry works.
			_ = c.Error(err)
			status, _, _ := statusOf(err)
			page := "Configuration"
			if status == http.StatusServiceUnavailable {
				c.Header("Retry-After", "5")
				page = "Unavailable"
			}
			writeJSON(c, status, map[string]string{"url": a.origin + a.basePath + "/error?error=" + page}, false)
			return
		}
		if res.EndSessionURL != "" {
			target = res.EndSessionURL
		}
	}
	a.cookies.clearSession(c.Writer, c.Request)
	c.Header("Cache-Control", "no-store")
	r.redirectCarryingToken(target) // the end-session URL holds the ID token
}

// signoutCallback is GET /signout/callback, where the IdP returns the
// browser after ending its session: a redirect to the callback URL the
// state names, checked against the open-redirect rule again; the app's
// origin when the state is missing, forged or expired.
func (a *authAPI) signoutCallback(c *gin.Context) {
	target := a.origin
	if raw, ok := a.csrf.openSignoutState(c.Query("state"), time.Now()); ok {
		if cb, err := resolveCallbackURL(raw, a.origin); err == nil {
			target = cb
		}
	}
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusFound, target)
	c.Abort()
}
