package httpapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/authbff/authbff/application"
)

// maxLogoutBody caps the back-channel request: a logout token is a few KB.
const maxLogoutBody = 64 << 10

// backchannelLogout is POST /api/auth/backchannel-logout, called by the IdP
// with a form field logout_token (OIDC Back-Channel Logout 1.0 §2.5). It
// answers 200 once the sessions are deleted, 400 for any bad token, 503 when
// the IdP's keys or the database cannot be reached; always no-store.
func (a *authAPI) backchannelLogout(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	// Each call costs a signature check and a database write: bound it per
	// client (Keycloak sends one per logged-out session).
	if !a.backchannelLimiter.allow(clientIP(c), time.Now()) {
		c.Header("Retry-After", "1")
		respondError(c, errRateLimited)
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxLogoutBody)
	if err := c.Request.ParseForm(); err != nil {
		respondCode(c, http.StatusBadRequest, "invalid_request", "malformed or oversized form")
		return
	}
	vals := c.Request.PostForm["logout_token"]
	if len(vals) != 1 || vals[0] == "" {
		respondCode(c, http.StatusBadRequest, "invalid_request", "exactly one logout_token is required")
		return
	}
	_, err := a.h.BackchannelLogout.Handle(c.Request.Context(), application.BackchannelLogout{LogoutToken: vals[0]})
	if errors.Is(err, application.ErrInvalidLogoutToken) {
		a.log.WarnContext(c.Request.Context(), "back-channel logout refused", "reason", err.Error())
		respondCode(c, http.StatusBadRequest, "invalid_request", "invalid logout token")
		return
	}
	if err != nil {
		respondError(c, err)
		return
	}
	c.Status(http.StatusOK)
}
