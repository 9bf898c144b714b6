package ports

import (
	"context"
	"errors"
	"time"
)

// ErrInvalidLogoutToken means a back-channel logout token failed a check:
// signature, issuer, audience, lifetime, events claim, nonce, sid/sub or jti.
var ErrInvalidLogoutToken = errors.New("invalid logout token")

// LogoutClaims are the verified claims of an OIDC back-channel logout token.
type LogoutClaims struct {
	Issuer    string
	Subject   string // may be empty when SessionID is set
	SessionID string // may be empty when Subject is set
	JTI       string
	IssuedAt  time.Time
	// Expires is the token's exp, or IssuedAt plus a short window when the
	// IdP sent none; a replay record is kept until then.
	Expires time.Time
}

// LogoutTokenVerifier verifies back-channel logout tokens (OIDC Back-Channel
// Logout 1.0).
type LogoutTokenVerifier interface {
	// VerifyLogoutToken checks raw and returns its claims. It returns an
	// error wrapping ErrInvalidLogoutToken for any failed check, and one
	// wrapping domain.ErrUnavailable when the IdP's keys cannot be fetched.
	VerifyLogoutToken(ctx context.Context, raw string) (LogoutClaims, error)
}
