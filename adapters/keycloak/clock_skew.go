package keycloak

import (
	"errors"
	"time"
)

// ClockSkew is how far authbff's clock may be from the IdP's, either way,
// before the tokens the IdP hands it are refused. It applies alike to ID
// tokens (sign-in and refresh) and logout tokens:
//
//   - iat must lie within ClockSkew of authbff's clock, on either side.
//     authbff only ever sees tokens the IdP has just issued for it: an ID
//     token in the answer to its own token request (OIDC Core §12.2: a
//     refreshed ID token's iat is the time it is issued) or a logout token
//     the IdP sends at logout. An iat further off means the two clocks
//     disagree by more than the tolerance, or the token is stale, and every
//     other time check would be off by as much.
//   - exp may have passed by at most ClockSkew, and nbf may lie at most
//     ClockSkew ahead.
//
// 60 s absorbs ordinary NTP drift and a short network delay; a larger
// offset is a broken clock to fix, not to tolerate.
const ClockSkew = 60 * time.Second

// Time-claim failures; the callers wrap them in their port's error.
var (
	errNoIssuedAt     = errors.New("no iat")
	errIssuedInFuture = errors.New("iat is further in the future than the clock-skew tolerance")
	errIssuedTooEarly = errors.New("iat is further in the past than the clock-skew tolerance")
	errExpired        = errors.New("expired beyond the clock-skew tolerance")
	errNotYetValid    = errors.New("nbf is further in the future than the clock-skew tolerance")
)

// checkTokenTimes applies ClockSkew to a token's time claims at now. A zero
// exp or nbf means the claim is absent and is not checked; iat is required.
func checkTokenTimes(now, iat, exp, nbf time.Time) error {
	switch {
	case iat.IsZero():
		return errNoIssuedAt
	case iat.After(now.Add(ClockSkew)):
		return errIssuedInFuture
	case iat.Before(now.Add(-ClockSkew)):
		return errIssuedTooEarly
	case !exp.IsZero() && exp.Before(now.Add(-ClockSkew)):
		return errExpired
	case !nbf.IsZero() && nbf.After(now.Add(ClockSkew)):
		return errNotYetValid
	}
	return nil
}
