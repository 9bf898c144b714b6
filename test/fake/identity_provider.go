package fake

import (
	"context"
	"fmt"
	"net/url"
	"sync"

	"github.com/authbff/authbff/ports"
)

// IdentityProvider is an in-memory ports.IdentityProvider for application
// tests. Exchange succeeds only for a code issued by Authorize, with the same
// PKCE verifier, redirect URI and nonce as the authorization request, the
// way a real OP checks them.
type IdentityProvider struct {
	mu           sync.Mutex
	IDValue      string
	IssuerValue  string
	RequireIss   bool
	requests     map[string]ports.AuthRequest // by state
	lastState    string
	codes        map[string]ports.AuthRequest // by code
	identities   map[string]ports.Identity    // code → identity
	Tokens       ports.TokenSet
	RefreshErr   error
	RefreshCalls int
	RefreshFunc  func(refreshToken string) (ports.Identity, ports.TokenSet, error)
}

// NewIdentityProvider returns a fake "keycloak" IdP at issuer.
func NewIdentityProvider(issuer string) *IdentityProvider {
	return &IdentityProvider{
		IDValue: "keycloak", IssuerValue: issuer, RequireIss: true,
		requests: map[string]ports.AuthRequest{}, codes: map[string]ports.AuthRequest{},
		identities: map[string]ports.Identity{},
		Tokens:     ports.TokenSet{AccessToken: "access-1", RefreshToken: "refresh-1", IDToken: "id-1", TokenType: "Bearer"},
	}
}

// ID implements ports.IdentityProvider.
func (p *IdentityProvider) ID() string { return p.IDValue }

// Name implements ports.IdentityProvider.
func (p *IdentityProvider) Name() string { return "Fake" }

// Issuer implements ports.IdentityProvider.
func (p *IdentityProvider) Issuer() string { return p.IssuerValue }

// IssParameterRequired implements ports.IdentityProvider.
func (p *IdentityProvider) IssParameterRequired() bool { return p.RequireIss }

// AuthCodeURL implements ports.IdentityProvider and records the request.
func (p *IdentityProvider) AuthCodeURL(req ports.AuthRequest) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests[req.State] = req
	p.lastState = req.State
	return p.IssuerValue + "/auth?state=" + url.QueryEscape(req.State)
}

// LastState returns the state of the latest authorization request.
func (p *IdentityProvider) LastState() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastState
}

// Request returns the recorded authorization request for state.
func (p *IdentityProvider) Request(state string) (ports.AuthRequest, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r, ok := p.requests[state]
	return r, ok
}

// Authorize simulates the user logging in for the request with this state:
// it returns a one-time code that yields identity.
func (p *IdentityProvider) Authorize(state string, identity ports.Identity) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	code := "code-" + state
	p.codes[code] = p.requests[state]
	p.identities[code] = identity
	return code
}

// Exchange implements ports.IdentityProvider.
func (p *IdentityProvider) Exchange(_ context.Context, code, verifier, redirectURI, nonce string) (ports.Identity, ports.TokenSet, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	req, ok := p.codes[code]
	delete(p.codes, code)
	if !ok {
		return ports.Identity{}, ports.TokenSet{}, fmt.Errorf("%w: unknown code", ports.ErrAuthorizationFailed)
	}
	switch {
	case req.PKCEVerifier != verifier:
		return ports.Identity{}, ports.TokenSet{}, fmt.Errorf("%w: PKCE verification failed", ports.ErrAuthorizationFailed)
	case req.RedirectURI != redirectURI:
		return ports.Identity{}, ports.TokenSet{}, fmt.Errorf("%w: redirect_uri mismatch", ports.ErrAuthorizationFailed)
	case req.Nonce != nonce:
		return ports.Identity{}, ports.TokenSet{}, fmt.Errorf("%w: nonce mismatch", ports.ErrAuthorizationFailed)
	}
	id := p.identities[code]
	id.Issuer = p.IssuerValue
	return id, p.Tokens, nil
}

// Refresh implements ports.IdentityProvider.
func (p *IdentityProvider) Refresh(_ context.Context, refreshToken, _ string) (ports.Identity, ports.TokenSet, error) {
	p.mu.Lock()
	p.RefreshCalls++
	f, rerr := p.RefreshFunc, p.RefreshErr
	p.mu.Unlock()
	if f != nil {
		return f(refreshToken)
	}
	if rerr != nil {
		return ports.Identity{}, ports.TokenSet{}, rerr
	}
	return ports.Identity{}, p.Tokens, nil
}

// EndSessionURL implements ports.IdentityProvider.
func (p *IdentityProvider) EndSessionURL(idTokenHint, postLogout, state string) string {
	q := url.Values{"id_token_hint": {idTokenHint}, "post_logout_redirect_uri": {postLogout}}
	if state != "" {
		q.Set("state", state)
	}
	return p.IssuerValue + "/logout?" + q.Encode()
}

// BrowserEndpoints implements ports.IdentityProvider.
func (p *IdentityProvider) BrowserEndpoints() ports.BrowserEndpoints {
	return ports.BrowserEndpoints{Authorization: p.IssuerValue + "/auth", EndSession: p.IssuerValue + "/logout"}
}

// TokenCipher is a reversible, clearly-marked ports.TokenCipher for tests:
// "sealed:" + plaintext. It lets tests assert what was stored.
type TokenCipher struct{}

// Seal implements ports.TokenCipher.
func (TokenCipher) Seal(s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	return []byte("sealed:" + s), nil
}

// Open implements ports.TokenCipher.
func (TokenCipher) Open(b []byte) (string, error) {
	if len(b) == 0 {
		return "", nil
	}
	if len(b) < 7 || string(b[:7]) != "sealed:" {
		return "", fmt.Errorf("not sealed by the fake cipher")
	}
	return string(b[7:]), nil
}
