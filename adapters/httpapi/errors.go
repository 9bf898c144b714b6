package httpapi

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/authbff/authbff/adapters/httpshared"

	"github.com/authbff/authbff/application"
	"github.com/authbff/authbff/domain"
)

// statusOf maps an error to its HTTP status, stable code and client message.
// It is the only place where errors meet HTTP. 5xx messages are generic: the
// real error goes to the log, never to the client.
func statusOf(err error) (int, string, string) {
	var ve *domain.ValidationError
	switch {
	case errors.As(err, &ve):
		return http.StatusBadRequest, "invalid_request", ve.Error()
	case errors.Is(err, domain.ErrMalformedToken), errors.Is(err, domain.ErrSessionNotFound):
		return http.StatusUnauthorized, "unauthenticated", "no valid session"
	case errors.Is(err, domain.ErrSessionExpired):
		return http.StatusUnauthorized, "session_expired", "the session has expired"
	case errors.Is(err, domain.ErrForbidden):
		return http.StatusForbidden, "forbidden", "the session lacks the required role"
	case errors.Is(err, domain.ErrNotMember):
		return http.StatusForbidden, "not_member", "not a member of that organization"
	case errors.Is(err, application.ErrNoSuchSession):
		return http.StatusNotFound, "not_found", "no such session"
	case errors.Is(err, domain.ErrUserNotFound):
		return http.StatusNotFound, "user_not_found", "no such user"
	case errors.Is(err, domain.ErrConflict):
		return http.StatusConflict, "conflict", "the request conflicts with existing data"
	case errors.Is(err, errHeadersTooLarge):
		return http.StatusRequestHeaderFieldsTooLarge, "headers_too_large", "the request headers exceed 64 KiB"
	case errors.Is(err, errBodyTooLarge):
		return http.StatusRequestEntityTooLarge, "body_too_large", "the request body exceeds 64 KiB or 64 fields"
	case errors.Is(err, errCrossOrigin):
		return http.StatusForbidden, "cross_origin", "cross-origin requests are refused"
	case errors.Is(err, errCSRF):
		return http.StatusForbidden, "csrf_required", "send the header X-CSRF: 1 with this request"
	case errors.Is(err, errRateLimited):
		return http.StatusTooManyRequests, "rate_limited", "too many requests for this session"
	case isSessionEnded(err):
		return http.StatusUnauthorized, "session_ended", "the identity provider ended this session; sign in again"
	case errors.Is(err, domain.ErrUnavailable):
		return http.StatusServiceUnavailable, "unavailable", "a dependency is unavailable; retry later"
	}
	return http.StatusInternalServerError, "internal", "internal error"
}

// isSessionEnded reports a refresh the IdP refused for good.
func isSessionEnded(err error) bool {
	return errors.Is(err, application.ErrRefreshRejected)
}

// respondError writes err in the API error shape and records it for the
// access log.
func respondError(c *gin.Context, err error) {
	status, code, msg := statusOf(err)
	_ = c.Error(err)
	if status == http.StatusServiceUnavailable {
		c.Header("Retry-After", "5")
	}
	respondCode(c, status, code, msg)
}

// respondCode writes a client error that has no domain error behind it, such
// as a malformed request.
func respondCode(c *gin.Context, status int, code, msg string) {
	c.Abort()
	httpshared.WriteError(c.Writer, status, code, msg)
}
