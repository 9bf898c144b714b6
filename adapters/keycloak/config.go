package keycloak

import "time"

// Config configures the provider (AUTH_KEYCLOAK_ID, AUTH_KEYCLOAK_SECRET,
// AUTH_KEYCLOAK_ISSUER).
type Config struct {
	// ProviderID is the id in Auth.js routes; "keycloak".
	ProviderID string
	// DisplayName is shown by GET /providers; "Keycloak".
	DisplayName  string
	Issuer       string
	ClientID     string
	ClientSecret string
	// Scopes requested at sign-in; "openid profile email organization:*" when
	// empty: Keycloak puts the organization claim only in tokens whose scope
	// asks for it, and organization:* selects all of the user's organizations
	// without an organization picker at login.
	Scopes []string
	// Timeout bounds every call to the IdP (discovery, token, JWKS).
	Timeout time.Duration
	// Now is the clock that tokens' iat, exp and nbf are checked against
	// (within ClockSkew), and that the key set's refetch throttle and
	// failure backoff follow; time.Now when nil. Tests step it instead of
	// sleeping, or set it apart from the IdP's to skew the two clocks.
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	if c.ProviderID == "" {
		c.ProviderID = "keycloak"
	}
	if c.DisplayName == "" {
		c.DisplayName = "Keycloak"
	}
	if len(c.Scopes) == 0 {
		c.Scopes = []string{"openid", "profile", "email", "organization:*"}
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}
