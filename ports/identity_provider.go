package ports

import (
	"context"
	"errors"
	"time"

	"github.com/authbff/authbff/domain"
)

// ErrRefreshRejected means the identity provider refused the refresh token
// for good (OAuth invalid_grant: revoked, expired, reused or its IdP session
// ended). The session it belongs to is over.
var ErrRefreshRejected = errors.New("refresh token rejected by the identity provider")

// ErrAuthorizationFailed means the callback's code could not be turned into a
// verified identity: the exchange was refused, or the ID token failed a check
// (signature, iss, aud, azp, exp, nonce, sub). It is the caller's fault or an
// attack, never an outage.
var ErrAuthorizationFailed = errors.New("authorization failed")

// AuthRequest is one authorization request to the IdP.
type AuthRequest struct {
	State        string
	Nonce        string
	PKCEVerifier string // the S256 challenge is derived from it
	RedirectURI  string
	// Params are extra authorization parameters passed through from the
	// client (prompt, login_hint, kc_idp_hint, ui_locales, ...). The protocol
	// parameters above always win.
	Params map[string]string
}

// TokenSet is the IdP's tokens in plaintext. It exists only in memory,
// between the IdP adapter and the TokenCipher.
type TokenSet struct {
	AccessToken           string
	RefreshToken          string
	IDToken               string
	TokenType             string
	AccessTokenExpiresAt  time.Time
	RefreshTokenExpiresAt time.Time // zero when the IdP did not say
	Scope                 string
}

// Identity is who the IdP says the user is, from verified tokens, with
// IdP-specific claims already mapped to domain roles and organizations.
type Identity struct {
	Issuer        string
	Subject       string
	SessionID     string // the IdP's session (`sid`), for back-channel logout
	Name          string
	Email         string
	EmailVerified bool
	Image         string
	Roles         []domain.Role
	Organizations []domain.Organization
}

// IdentityProvider is the OIDC provider users sign in with.
type IdentityProvider interface {
	// ID is the provider id in Auth.js routes, e.g. "keycloak".
	ID() string
	// Name is the provider's display name, e.g. "Keycloak".
	Name() string
	// Issuer is the verified issuer identifier from discovery.
	Issuer() string
	// IssParameterRequired reports whether the IdP announces RFC 9207 (it
	// adds `iss` to every authorization response), so a missing `iss` on
	// the callback is an error.
	IssParameterRequired() bool
	// AuthCodeURL returns the authorization endpoint URL for req, with PKCE
	// S256, state and nonce.
	AuthCodeURL(req AuthRequest) string
	// Exchange redeems an authorization code and verifies the ID token,
	// including its nonce. It returns ErrAuthorizationFailed for a refused
	// code or a token that fails verification, and an error wrapping
	// domain.ErrUnavailable when the IdP cannot be reached or answers 5xx.
	Exchange(ctx context.Context, code, pkceVerifier, redirectURI, nonce string) (Identity, TokenSet, error)
	// Refresh redeems a refresh token with exactly one request (a rotated
	// refresh token must never be replayed blindly). previousIDToken is the
	// session's current ID token: the refreshed tokens must have its issuer
	// and subject. The returned identity is from the new ID token when the
	// IdP sent one, else from the new access token's claims. It returns
	// ErrRefreshRejected on invalid_grant, ErrAuthorizationFailed when the
	// new tokens fail verification, and an error wrapping
	// domain.ErrUnavailable on timeouts, 5xx and redirects.
	Refresh(ctx context.Context, refreshToken, previousIDToken string) (Identity, TokenSet, error)
	// EndSessionURL returns the RP-initiated logout URL that ends the IdP
	// session, or "" if the IdP has none. state, when not empty, is echoed
	// by the IdP on its redirect to postLogoutRedirectURI.
	EndSessionURL(idTokenHint, postLogoutRedirectURI, state string) string
	// BrowserEndpoints are the IdP URLs a browser is sent to: the built-in
	// pages' Content-Security-Policy must allow forms to reach them.
	BrowserEndpoints() BrowserEndpoints
}

// BrowserEndpoints are the IdP's endpoints a browser navigates to, from
// discovery. EndSession is "" when the IdP has none.
type BrowserEndpoints struct {
	Authorization string
	EndSession    string
}

// TokenCipher seals tokens for storage. Sealed values are authenticated:
// tampering is detected on Open.
type TokenCipher interface {
	// Seal encrypts plaintext. An empty plaintext seals to nil.
	Seal(plaintext string) ([]byte, error)
	// Open decrypts a value sealed with any of the configured keys. nil opens
	// to "". It returns an error if the value was tampered with or no key
	// fits.
	Open(sealed []byte) (string, error)
}
