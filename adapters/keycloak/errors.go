package keycloak

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"

	"golang.org/x/oauth2"

	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
)

// mapTokenError translates a token endpoint failure. For a refresh only
// invalid_grant means the refresh token is dead (revoked, expired, reused, or
// its IdP session ended) and becomes rejected; anything else — timeouts,
// connection failures, 5xx, redirects, 429, a 4xx without an OAuth error
// (an ingress page), a client misconfiguration (invalid_client) — becomes
// domain.ErrUnavailable, so the session is kept and the client retries. For a
// code exchange every OAuth error means the code is unusable. Token values
// never appear in the message: x/oauth2's error body is not included.
func mapTokenError(err error, rejected error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		switch {
		case status >= 500 || status == 429 || (status >= 300 && status < 400):
			return fmt.Errorf("%w: identity provider token endpoint answered %d", domain.ErrUnavailable, status)
		case re.ErrorCode == "":
			return fmt.Errorf("%w: token endpoint answered %d without an OAuth error", domain.ErrUnavailable, status)
		case errors.Is(rejected, ports.ErrRefreshRejected) && re.ErrorCode != "invalid_grant":
			return fmt.Errorf("%w: token endpoint refused the refresh with %s", domain.ErrUnavailable, re.ErrorCode)
		default:
			return fmt.Errorf("%w: %s", rejected, re.ErrorCode)
		}
	}
	return unavailable(err)
}

// unavailable marks transport failures as domain.ErrUnavailable.
func unavailable(err error) error {
	if isTransport(err) {
		return fmt.Errorf("%w: identity provider: %s", domain.ErrUnavailable, transportReason(err))
	}
	return err
}

func isTransport(err error) bool {
	var netErr net.Error
	var urlErr *url.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) || errors.As(err, &urlErr)
}

func transportReason(err error) string {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		if urlErr.Timeout() {
			return "timeout"
		}
		return urlErr.Err.Error()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	return err.Error()
}
