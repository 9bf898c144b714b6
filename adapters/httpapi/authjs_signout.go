package httpapi

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/authbff/authbff/application"
	"github.com/authbff/authbff/domain"
)

// signout is POST /signout: CSRF check, delete the session row, clear every
// session cookie, and answer the IdP's end-session URL (with id_token_hint)
// so the stock client, which just navigates to the url, ends the Keycloak
// session too. Without a session the url is the callback URL.
func (a *authAPI) signout(c *gin.Context) {
	r := a.newAuthRequest(c)
	if !r.csrfVerified {
		r.fail("MissingCSRF")
		return
	}
	target := r.callbackURL
	if a.h.SignOut != nil {
		postLogout := a.postLogoutRedirect
		if postLogout == "" {
			postLogout = r.callbackURL
		}
		res, err := a.h.SignOut.Handle(c.Request.Context(), application.SignOut{
			Token: a.cookies.sessionToken(c.Request), PostLogoutRedirectURI: postLogout,
		})
		if err != nil {
			_ = c.Error(err)
			if errors.Is(err, domain.ErrUnavailable) {
				// The row could not be deleted: say so rather than pretend the
				// user is signed out. The cookie is kept so a retry works.
				c.Header("Retry-After", "5")
				writeJSON(c, http.StatusServiceUnavailable, map[string]string{"url": a.origin + a.basePath + "/error?error=Unavailable"}, false)
				return
			}
		}
		if res.EndSessionURL != "" {
			target = res.EndSessionURL
		}
	}
	a.cookies.clearSession(c.Writer, c.Request)
	c.Header("Cache-Control", "no-store")
	r.redirect(target)
}
