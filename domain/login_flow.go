package domain

import "time"

// LoginFlowTTL is how long a started sign-in may take before its callback.
const LoginFlowTTL = 15 * time.Minute

// LoginFlow is the server-side record of one OIDC authorization request: the
// state that keys it, the nonce and PKCE verifier that must match on the
// callback, and where to send the browser afterwards. It is consumed exactly
// once. BrowserBinding is the hash of a random value held in a cookie of the
// browser that started the flow, so a state value alone (leaked or planted) is
// useless in another browser.
type LoginFlow struct {
	State          string
	Nonce          string
	PKCEVerifier   string
	Provider       string
	Issuer         string
	RedirectURI    string
	CallbackURL    string
	BrowserBinding TokenHash
	CreatedAt      time.Time
	Expires        time.Time
}

// Expired reports whether the flow is past its expiry at now.
func (f LoginFlow) Expired(now time.Time) bool { return !now.Before(f.Expires) }
