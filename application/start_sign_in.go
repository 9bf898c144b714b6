package application

import (
	"context"
	"fmt"

	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
)

// StartSignIn begins an OIDC sign-in (POST /api/auth/signin/:provider).
type StartSignIn struct {
	Provider string
	// RedirectURI is authbff's callback URL for the provider.
	RedirectURI string
	// CallbackURL is where the browser goes after sign-in, already checked
	// to be on the app's own origin.
	CallbackURL string
	// BrowserBinding is the hash of a random value the HTTP layer put in a
	// cookie of this browser; the callback must present the same value.
	BrowserBinding domain.TokenHash
	// Params are client-supplied authorization parameters (prompt,
	// login_hint, ...); the IdP adapter keeps only the ones it allows.
	Params map[string]string
}

// StartSignInResult says where to send the browser.
type StartSignInResult struct {
	AuthorizationURL string
}

// StartSignInHandler runs StartSignIn.
type StartSignInHandler struct {
	idp        ports.IdentityProvider
	flows      ports.LoginFlowStore
	now        Clock
	maxPending int64
}

// DefaultMaxPendingSignIns caps stored, unfinished sign-ins (each row lives
// 15 minutes), so an anonymous flood of sign-in requests cannot fill the
// database.
const DefaultMaxPendingSignIns = 100000

// NewStartSignInHandler returns a StartSignInHandler.
func NewStartSignInHandler(idp ports.IdentityProvider, flows ports.LoginFlowStore, now Clock) *StartSignInHandler {
	return &StartSignInHandler{idp: idp, flows: flows, now: now, maxPending: DefaultMaxPendingSignIns}
}

// WithMaxPending sets the cap on pending sign-ins (AUTH_SIGNIN_MAX_PENDING,
// at least 1 there); 0 removes it (tests only).
func (h *StartSignInHandler) WithMaxPending(n int64) *StartSignInHandler {
	h.maxPending = n
	return h
}

// Handle stores a login flow keyed by a fresh state, with a fresh nonce and
// PKCE verifier, and returns the IdP's authorization URL. At the cap on
// pending sign-ins the store refuses the flow (ErrTooManyPendingSignIns):
// the store decides, in the same step as the insert, so concurrent sign-ins
// cannot overshoot it.
func (h *StartSignInHandler) Handle(ctx context.Context, cmd StartSignIn) (StartSignInResult, error) {
	if cmd.Provider != h.idp.ID() {
		return StartSignInResult{}, ErrUnknownProvider
	}
	if cmd.BrowserBinding == "" {
		return StartSignInResult{}, &domain.ValidationError{Field: "BrowserBinding", Reason: "required"}
	}
	now := h.now()
	flow := domain.LoginFlow{
		State:          randomToken(32),
		Nonce:          randomToken(32),
		PKCEVerifier:   randomToken(32),
		Provider:       cmd.Provider,
		Issuer:         h.idp.Issuer(),
		RedirectURI:    cmd.RedirectURI,
		CallbackURL:    cmd.CallbackURL,
		BrowserBinding: cmd.BrowserBinding,
		CreatedAt:      now,
		Expires:        now.Add(domain.LoginFlowTTL),
	}
	if err := h.flows.Save(ctx, flow, h.maxPending); err != nil {
		return StartSignInResult{}, fmt.Errorf("start sign-in: %w", err)
	}
	url := h.idp.AuthCodeURL(ports.AuthRequest{
		State: flow.State, Nonce: flow.Nonce, PKCEVerifier: flow.PKCEVerifier,
		RedirectURI: flow.RedirectURI, Params: cmd.Params,
	})
	return StartSignInResult{AuthorizationURL: url}, nil
}

// LoginFlowTTL is exported for the HTTP layer's binding cookie lifetime.
const LoginFlowTTL = domain.LoginFlowTTL
