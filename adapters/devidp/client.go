package devidp

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/url"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Token lifetimes. They follow the Keycloak realm authbff is tested against:
// a short access token and a refresh token that lasts a working day.
const (
	// AccessTokenLifespan is how long access and ID tokens are valid.
	AccessTokenLifespan = 5 * time.Minute
	// RefreshTokenLifespan is how long a refresh token is valid after it
	// was issued. Every refresh issues a new one.
	RefreshTokenLifespan = 8 * time.Hour
	// authRequestLifespan is how long the login page may stay open.
	authRequestLifespan = 30 * time.Minute
	// codeLifespan is how long an authorization code may wait for its
	// exchange (Keycloak's accessCodeLifespan).
	codeLifespan = time.Minute
)

// extraScopes are the scopes besides the standard OIDC ones that the client
// may request: Keycloak's default and optional client scopes.
var extraScopes = []string{"roles", "web-origins", "acr", "basic", "microprofile-jwt"}

// client is the one OAuth client the provider knows: the BFF. It is a
// confidential web client (or a public one when it has no secret) that may
// only use the authorization code flow with PKCE and refresh tokens.
type client struct {
	id                     string
	secret                 string
	redirectURIs           []string
	postLogoutRedirectURIs []string
	loginURL               string
}

var _ op.Client = (*client)(nil)

func (c *client) GetID() string { return c.id }

func (c *client) RedirectURIs() []string { return slices.Clone(c.redirectURIs) }

func (c *client) PostLogoutRedirectURIs() []string { return slices.Clone(c.postLogoutRedirectURIs) }

func (c *client) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }

func (c *client) AuthMethod() oidc.AuthMethod {
	if c.secret == "" {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic
}

func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}

func (c *client) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
}

// LoginURL is where the authorization endpoint sends the browser: the
// login page, with the id of the stored authorization request.
func (c *client) LoginURL(authRequestID string) string {
	return c.loginURL + "?" + url.Values{loginFieldAuthRequestID: {authRequestID}}.Encode()
}

func (c *client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }

func (c *client) IDTokenLifetime() time.Duration { return AccessTokenLifespan }

// DevMode lets a public client use http redirect URIs. Redirect URIs are
// still matched exactly.
func (c *client) DevMode() bool { return true }

func (c *client) RestrictAdditionalIdTokenScopes() func(scopes []string) []string {
	return func(scopes []string) []string { return scopes }
}

func (c *client) RestrictAdditionalAccessTokenScopes() func(scopes []string) []string {
	return func(scopes []string) []string { return scopes }
}

func (c *client) IsScopeAllowed(scope string) bool {
	return slices.Contains(extraScopes, scope) || isOrganizationScope(scope)
}

// IDTokenUserinfoClaimsAssertion puts the profile and email claims into the
// ID token even when an access token is issued too, as Keycloak does.
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }

func (c *client) ClockSkew() time.Duration { return 0 }

// GetClientByClientID returns the BFF client; any other id is unknown.
func (s *storage) GetClientByClientID(_ context.Context, clientID string) (op.Client, error) {
	if clientID != s.client.id {
		return nil, errors.New("devidp: unknown client")
	}
	return s.client, nil
}

// AuthorizeClientIDSecret checks the client's secret in constant time.
func (s *storage) AuthorizeClientIDSecret(_ context.Context, clientID, clientSecret string) error {
	if clientID != s.client.id || s.client.secret == "" ||
		subtle.ConstantTimeCompare([]byte(clientSecret), []byte(s.client.secret)) != 1 {
		return errors.New("devidp: invalid client credentials")
	}
	return nil
}

// GetKeyByIDAndClientID would return a client's key for private_key_jwt and
// the JWT profile grant, which the provider does not support.
func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("devidp: client keys are not supported")
}

// ValidateJWTProfileScopes refuses the JWT profile grant, which the
// provider does not support.
func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("devidp: the JWT profile grant is not supported")
}

// Health reports the in-memory storage as always healthy.
func (s *storage) Health(context.Context) error { return nil }
