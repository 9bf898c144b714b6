package keycloak

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
)

// Provider implements ports.IdentityProvider.
type Provider struct {
	cfg          Config
	verifier     *oidc.IDTokenVerifier
	oauth        oauth2.Config
	client       *http.Client
	endSession   string
	issRequired  bool
	keys         *keySet
	log          *slog.Logger
	discoveryURL string
}

var _ ports.IdentityProvider = (*Provider)(nil)

// discovery holds the metadata go-oidc does not expose.
type discovery struct {
	EndSessionEndpoint  string   `json:"end_session_endpoint"`
	JWKSURI             string   `json:"jwks_uri"`
	IssParameter        bool     `json:"authorization_response_iss_parameter_supported"`
	CodeChallengeMethod []string `json:"code_challenge_methods_supported"`
}

// New runs OIDC discovery against cfg.Issuer, bounded by cfg.Timeout, so a
// wrong issuer or an unreachable IdP stops start-up with a clear error.
func New(cfg Config, log *slog.Logger) (*Provider, error) {
	cfg = cfg.withDefaults()
	if cfg.Issuer == "" || cfg.ClientID == "" {
		return nil, errors.New("keycloak: issuer and client id are required")
	}
	// The client has its own timeout and does not follow redirects: a token
	// endpoint that redirects must not make us send a code or refresh token
	// anywhere else.
	client := &http.Client{
		Timeout: cfg.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(context.Background(), client), cfg.Timeout)
	defer cancel()
	p, err := oidc.NewProvider(ctx, cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("keycloak: discovery at %s failed: %w", cfg.Issuer, unavailable(err))
	}
	var d discovery
	if err := p.Claims(&d); err != nil {
		return nil, fmt.Errorf("keycloak: discovery document: %w", err)
	}
	if len(d.CodeChallengeMethod) > 0 && !contains(d.CodeChallengeMethod, "S256") {
		return nil, errors.New("keycloak: the provider does not support PKCE S256")
	}
	if d.JWKSURI == "" {
		return nil, errors.New("keycloak: discovery document has no jwks_uri")
	}
	keys := newKeySet(d.JWKSURI, client, time.Minute, cfg.Now)
	verifierCfg := &oidc.Config{ClientID: cfg.ClientID, SupportedSigningAlgs: algNames(),
		// go-oidc compares exp with Now and no leeway. Reading a clock
		// ClockSkew behind gives exp the tolerance iat and nbf get in
		// verifyIDToken, with go-oidc's own expiry check left on.
		Now: func() time.Time { return cfg.Now().Add(-ClockSkew) }}
	return &Provider{
		cfg:      cfg,
		keys:     keys,
		verifier: oidc.NewVerifier(cfg.Issuer, keys.trusted(), verifierCfg),
		oauth: oauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			Endpoint:     p.Endpoint(),
			Scopes:       cfg.Scopes,
		},
		client:       client,
		endSession:   d.EndSessionEndpoint,
		issRequired:  d.IssParameter,
		log:          log,
		discoveryURL: strings.TrimSuffix(cfg.Issuer, "/") + "/.well-known/openid-configuration",
	}, nil
}

// ID implements ports.IdentityProvider.
func (p *Provider) ID() string { return p.cfg.ProviderID }

// Name implements ports.IdentityProvider.
func (p *Provider) Name() string { return p.cfg.DisplayName }

// Issuer implements ports.IdentityProvider.
func (p *Provider) Issuer() string { return p.cfg.Issuer }

// IssParameterRequired implements ports.IdentityProvider.
func (p *Provider) IssParameterRequired() bool { return p.issRequired }

// passThroughParams are the authorization parameters a client may add
// (Auth.js merges the sign-in request's query into the authorization URL).
// Protocol parameters (redirect_uri, state, nonce, PKCE, response_type,
// client_id, scope) are never taken from the client.
var passThroughParams = map[string]bool{
	"prompt": true, "login_hint": true, "kc_idp_hint": true, "ui_locales": true, "max_age": true,
	"acr_values": true, "kc_action": true, "display": true, "kc_locale": true,
}

// AuthCodeURL implements ports.IdentityProvider.
func (p *Provider) AuthCodeURL(req ports.AuthRequest) string {
	cfg := p.oauth
	cfg.RedirectURL = req.RedirectURI
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(req.PKCEVerifier), oidc.Nonce(req.Nonce)}
	for k, v := range req.Params {
		if passThroughParams[k] && v != "" {
			opts = append(opts, oauth2.SetAuthURLParam(k, v))
		}
	}
	return cfg.AuthCodeURL(req.State, opts...)
}

// Exchange implements ports.IdentityProvider.
func (p *Provider) Exchange(ctx context.Context, code, pkceVerifier, redirectURI, nonce string) (ports.Identity, ports.TokenSet, error) {
	cfg := p.oauth
	cfg.RedirectURL = redirectURI
	ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, p.client), p.cfg.Timeout)
	defer cancel()
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(pkceVerifier))
	if err != nil {
		return ports.Identity{}, ports.TokenSet{}, mapTokenError(err, ports.ErrAuthorizationFailed)
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		return ports.Identity{}, ports.TokenSet{}, fmt.Errorf("%w: no id_token in the token response", ports.ErrAuthorizationFailed)
	}
	idTok, err := p.verifyIDToken(ctx, rawID)
	if err != nil {
		return ports.Identity{}, ports.TokenSet{}, err
	}
	if nonce == "" || idTok.Nonce != nonce {
		return ports.Identity{}, ports.TokenSet{}, fmt.Errorf("%w: id token nonce mismatch", ports.ErrAuthorizationFailed)
	}
	id, err := p.identity(idTok, tok.AccessToken)
	if err != nil {
		return ports.Identity{}, ports.TokenSet{}, err
	}
	return id, tokenSet(tok, rawID), nil
}

// Refresh implements ports.IdentityProvider. Exactly one request is made: a
// refresh token may have been rotated by a request that failed midway, so a
// blind retry could present a dead token and end the session.
func (p *Provider) Refresh(ctx context.Context, refreshToken, previousIDToken string) (ports.Identity, ports.TokenSet, error) {
	if refreshToken == "" {
		return ports.Identity{}, ports.TokenSet{}, fmt.Errorf("%w: no refresh token", ports.ErrRefreshRejected)
	}
	// The previous ID token was verified at sign-in and stored sealed, so
	// its subject is trusted here.
	prev, err := unverifiedClaims(previousIDToken)
	if err != nil || prev.Subject == "" {
		return ports.Identity{}, ports.TokenSet{}, fmt.Errorf("%w: the session has no usable ID token", ports.ErrRefreshRejected)
	}
	subject := prev.Subject
	ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, p.client), p.cfg.Timeout)
	defer cancel()
	src := p.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: refreshToken, Expiry: time.Unix(1, 0)})
	tok, err := src.Token()
	if err != nil {
		return ports.Identity{}, ports.TokenSet{}, mapTokenError(err, ports.ErrRefreshRejected)
	}
	rawID, _ := tok.Extra("id_token").(string)
	var id ports.Identity
	if rawID != "" {
		idTok, err := p.verifyIDToken(ctx, rawID)
		if err != nil {
			return ports.Identity{}, ports.TokenSet{}, err
		}
		if id, err = p.identity(idTok, tok.AccessToken); err != nil {
			return ports.Identity{}, ports.TokenSet{}, err
		}
	} else {
		claims, err := unverifiedClaims(tok.AccessToken)
		if err != nil {
			return ports.Identity{}, ports.TokenSet{}, fmt.Errorf("%w: %v", ports.ErrAuthorizationFailed, err)
		}
		id = mapIdentity(p.cfg.ClientID, claims)
		id.Issuer = claims.Issuer
		if id.Issuer != p.cfg.Issuer {
			return ports.Identity{}, ports.TokenSet{}, fmt.Errorf("%w: refreshed token from another issuer", ports.ErrAuthorizationFailed)
		}
	}
	if id.Subject != subject {
		return ports.Identity{}, ports.TokenSet{}, fmt.Errorf("%w: refreshed token is for another subject", ports.ErrAuthorizationFailed)
	}
	set := tokenSet(tok, rawID)
	if set.RefreshToken == "" { // the IdP kept the old refresh token valid
		set.RefreshToken = refreshToken
	}
	return id, set, nil
}

// BrowserEndpoints implements ports.IdentityProvider.
func (p *Provider) BrowserEndpoints() ports.BrowserEndpoints {
	return ports.BrowserEndpoints{Authorization: p.oauth.Endpoint.AuthURL, EndSession: p.endSession}
}

// EndSessionURL implements ports.IdentityProvider.
func (p *Provider) EndSessionURL(idTokenHint, postLogoutRedirectURI, state string) string {
	if p.endSession == "" {
		return ""
	}
	u, err := url.Parse(p.endSession)
	if err != nil {
		return ""
	}
	q := u.Query()
	q.Set("client_id", p.cfg.ClientID)
	if idTokenHint != "" {
		q.Set("id_token_hint", idTokenHint)
	}
	if postLogoutRedirectURI != "" {
		q.Set("post_logout_redirect_uri", postLogoutRedirectURI)
		if state != "" {
			q.Set("state", state)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// verifyIDToken checks signature, iss, aud, exp (go-oidc), then what go-oidc
// leaves to us: azp, a non-empty sub (go-oidc issue #495), and iat and nbf
// within ClockSkew (go-oidc reads no iat and allows nbf 5 minutes ahead).
func (p *Provider) verifyIDToken(ctx context.Context, raw string) (*oidc.IDToken, error) {
	// Key problems first, because go-oidc flattens the key set's errors: an
	// unreachable JWKS or a key the IdP has not published yet (rotation) is
	// an outage, not a forged token, and must not end a session.
	if _, err := p.keys.trusted().VerifySignature(ctx, raw); err != nil {
		if errors.Is(err, domain.ErrUnavailable) || errors.Is(err, errUnknownKey) {
			return nil, fmt.Errorf("%w: id token keys: %v", domain.ErrUnavailable, err)
		}
		return nil, fmt.Errorf("%w: id token signature: %v", ports.ErrAuthorizationFailed, err)
	}
	idTok, err := p.verifier.Verify(ctx, raw)
	if err != nil {
		if isTransport(err) {
			return nil, fmt.Errorf("%w: verify id token: %v", domain.ErrUnavailable, err)
		}
		return nil, fmt.Errorf("%w: id token: %v", ports.ErrAuthorizationFailed, err)
	}
	if idTok.Subject == "" {
		return nil, fmt.Errorf("%w: id token has no sub", ports.ErrAuthorizationFailed)
	}
	var c struct {
		Azp string   `json:"azp"`
		Nbf *float64 `json:"nbf"`
	}
	if err := idTok.Claims(&c); err != nil {
		return nil, fmt.Errorf("%w: id token claims: %v", ports.ErrAuthorizationFailed, err)
	}
	var nbf time.Time
	if c.Nbf != nil {
		nbf = time.Unix(int64(*c.Nbf), 0)
	}
	if err := checkTokenTimes(p.cfg.Now(), idTok.IssuedAt, idTok.Expiry, nbf); err != nil {
		return nil, fmt.Errorf("%w: id token: %v", ports.ErrAuthorizationFailed, err)
	}
	if (len(idTok.Audience) > 1 || c.Azp != "") && c.Azp != p.cfg.ClientID {
		return nil, fmt.Errorf("%w: id token azp %q is not this client", ports.ErrAuthorizationFailed, c.Azp)
	}
	return idTok, nil
}

// identity merges the verified ID token's claims with the access token's.
// Keycloak puts realm and client roles in the access token only, by default.
// The access token came to us directly from the token endpoint over the
// authenticated back channel, so its claims are read without a second
// signature check (OIDC Core 3.1.3.8 lets a client trust that channel);
// identity fields always come from the verified ID token.
func (p *Provider) identity(idTok *oidc.IDToken, accessToken string) (ports.Identity, error) {
	var c claims
	if err := idTok.Claims(&c); err != nil {
		return ports.Identity{}, fmt.Errorf("%w: id token claims: %v", ports.ErrAuthorizationFailed, err)
	}
	id := mapIdentity(p.cfg.ClientID, c)
	id.Issuer, id.Subject = idTok.Issuer, idTok.Subject
	if at, err := unverifiedClaims(accessToken); err == nil && at.Subject == idTok.Subject {
		extra := mapIdentity(p.cfg.ClientID, at)
		id.Roles = mergeRoles(id.Roles, extra.Roles)
		id.Organizations = mergeOrganizations(id.Organizations, extra.Organizations)
		if id.SessionID == "" {
			id.SessionID = extra.SessionID
		}
	}
	return id, nil
}

func tokenSet(tok *oauth2.Token, rawID string) ports.TokenSet {
	set := ports.TokenSet{
		AccessToken:          tok.AccessToken,
		RefreshToken:         tok.RefreshToken,
		IDToken:              rawID,
		TokenType:            tok.Type(),
		AccessTokenExpiresAt: tok.Expiry.UTC(),
	}
	if s, ok := tok.Extra("scope").(string); ok {
		set.Scope = s
	}
	if n, ok := numberExtra(tok, "refresh_expires_in"); ok && n > 0 {
		set.RefreshTokenExpiresAt = time.Now().Add(time.Duration(n) * time.Second).UTC()
	}
	return set
}

func numberExtra(tok *oauth2.Token, key string) (int64, bool) {
	switch v := tok.Extra(key).(type) {
	case float64:
		return int64(v), true
	case int64:
		return v, true
	}
	return 0, false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
