package application

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
)

// CompleteSignIn finishes an OIDC sign-in (GET|POST /api/auth/callback/:provider).
type CompleteSignIn struct {
	Provider string
	// Callback parameters from the IdP.
	State, Code, Issuer string
	// ProviderError is the callback's `error` parameter, if any.
	ProviderError string
	// BrowserBinding is the hash of the binding cookie this browser holds.
	BrowserBinding domain.TokenHash
	IPAddress      string
	UserAgent      string
	// PreviousToken is the session cookie the browser presented, if any: that
	// session ends, so a planted or stale session never outlives a sign-in.
	PreviousToken string
}

// CompleteSignInResult is the new session for the cookie.
type CompleteSignInResult struct {
	SessionToken domain.SessionToken
	Expires      time.Time
	CallbackURL  string
	UserID       string
}

// CompleteSignInHandler runs CompleteSignIn.
type CompleteSignInHandler struct {
	idp      ports.IdentityProvider
	flows    ports.LoginFlowStore
	users    ports.UserStore
	sessions ports.SessionStore
	cipher   ports.TokenCipher
	policy   domain.SessionPolicy
	obs      ports.Observer
	now      Clock
	log      *slog.Logger
	orgIDs   *OrganizationIDs
}

// NewCompleteSignInHandler returns a CompleteSignInHandler. orgIDs may be
// nil: organizations are then stored with the ids the token carried.
func NewCompleteSignInHandler(idp ports.IdentityProvider, flows ports.LoginFlowStore, users ports.UserStore,
	sessions ports.SessionStore, cipher ports.TokenCipher, policy domain.SessionPolicy, obs ports.Observer, now Clock, log *slog.Logger,
	orgIDs *OrganizationIDs) *CompleteSignInHandler {
	return &CompleteSignInHandler{idp: idp, flows: flows, users: users, sessions: sessions, cipher: cipher,
		policy: policy, obs: obs, now: now, log: log, orgIDs: orgIDs}
}

// Handle is documented on handle; it also counts the outcome.
func (h *CompleteSignInHandler) Handle(ctx context.Context, cmd CompleteSignIn) (CompleteSignInResult, error) {
	res, err := h.handle(ctx, cmd)
	h.obs.SignIn(signInResult(err))
	return res, err
}

func signInResult(err error) string {
	switch {
	case err == nil:
		return "success"
	case errors.Is(err, domain.ErrUnavailable):
		return "unavailable"
	case errors.Is(err, ErrSignInCheckFailed), errors.Is(err, ErrUnknownProvider):
		return "invalid_check"
	case errors.Is(err, ErrProviderError):
		return "provider_error"
	case errors.Is(err, ErrIssuerMismatch), errors.Is(err, ErrAuthorizationFailed):
		return "rejected"
	case errors.Is(err, domain.ErrConflict):
		return "account_conflict"
	}
	return "error"
}

// handle consumes the login flow (once, and only from the browser that
// started it), checks the issuer, redeems the code with the PKCE verifier,
// verifies the ID token and its nonce, syncs the user with roles and
// memberships in one transaction, and creates a new session holding the
// sealed token set. Every sign-in gets a new session token (no fixation).
func (h *CompleteSignInHandler) handle(ctx context.Context, cmd CompleteSignIn) (CompleteSignInResult, error) {
	if cmd.Provider != h.idp.ID() {
		return CompleteSignInResult{}, ErrUnknownProvider
	}
	if cmd.State == "" || cmd.BrowserBinding == "" {
		return CompleteSignInResult{}, fmt.Errorf("%w: missing state or browser binding", ErrSignInCheckFailed)
	}
	now := h.now()
	// The flow is consumed before anything else, so a replayed callback
	// fails even if the first one is still in flight.
	flow, err := h.flows.Consume(ctx, cmd.State, cmd.BrowserBinding, now)
	switch {
	case errors.Is(err, domain.ErrLoginFlowNotFound), errors.Is(err, domain.ErrLoginFlowExpired):
		return CompleteSignInResult{}, fmt.Errorf("%w: %w", ErrSignInCheckFailed, err)
	case err != nil:
		return CompleteSignInResult{}, fmt.Errorf("complete sign-in: %w", err)
	}
	if flow.Provider != cmd.Provider {
		return CompleteSignInResult{}, fmt.Errorf("%w: flow belongs to another provider", ErrSignInCheckFailed)
	}
	if cmd.ProviderError != "" {
		return CompleteSignInResult{}, fmt.Errorf("%w: %.64s", ErrProviderError, cmd.ProviderError)
	}
	if cmd.Issuer != "" && cmd.Issuer != flow.Issuer || cmd.Issuer == "" && h.idp.IssParameterRequired() {
		return CompleteSignInResult{}, ErrIssuerMismatch
	}
	if cmd.Code == "" {
		return CompleteSignInResult{}, fmt.Errorf("%w: no code", ErrProviderError)
	}
	identity, tokens, err := h.idp.Exchange(ctx, cmd.Code, flow.PKCEVerifier, flow.RedirectURI, flow.Nonce)
	if err != nil {
		return CompleteSignInResult{}, fmt.Errorf("complete sign-in: %w", err)
	}
	// Resolved before the transaction: no database connection is held
	// across the call to the IdP.
	orgs := h.orgIDs.Complete(ctx, identity.Organizations)
	user, err := h.users.SyncIdentity(ctx, ports.IdentitySync{
		Provider: flow.Provider, Subject: identity.Subject, Name: identity.Name, Email: identity.Email,
		EmailVerified: identity.EmailVerified, Image: identity.Image,
		Roles: identity.Roles, Organizations: orgs, Now: now,
	})
	if err != nil {
		return CompleteSignInResult{}, fmt.Errorf("complete sign-in: %w", err)
	}
	orgs, err = h.users.Organizations(ctx, user.ID)
	if err != nil {
		return CompleteSignInResult{}, fmt.Errorf("complete sign-in: %w", err)
	}
	sealed, err := sealTokens(h.cipher, tokens)
	if err != nil {
		return CompleteSignInResult{}, fmt.Errorf("complete sign-in: %w", err)
	}
	params := domain.NewSessionParams{
		UserID: user.ID, Provider: flow.Provider, ProviderSessionID: identity.SessionID,
		Tokens: sealed, IPAddress: cmd.IPAddress, UserAgent: cmd.UserAgent,
	}
	if len(orgs) > 0 { // the active organization defaults to the first membership
		params.ActiveOrganizationID = orgs[0].ID
	}
	sess, token, err := domain.NewSession(params, h.policy, now)
	if err != nil {
		return CompleteSignInResult{}, err
	}
	if err := h.sessions.Create(ctx, sess); err != nil {
		return CompleteSignInResult{}, fmt.Errorf("complete sign-in: %w", err)
	}
	h.endPrevious(ctx, cmd.PreviousToken)
	h.log.InfoContext(ctx, "sign-in", "user_id", user.ID, "session_id", sess.ID(), "provider", flow.Provider)
	return CompleteSignInResult{SessionToken: token, Expires: sess.Expires(), CallbackURL: flow.CallbackURL, UserID: user.ID}, nil
}

// sealTokens encrypts a token set for storage.
func sealTokens(c ports.TokenCipher, t ports.TokenSet) (domain.SealedTokens, error) {
	var s domain.SealedTokens
	var err error
	if s.AccessToken, err = c.Seal(t.AccessToken); err != nil {
		return s, err
	}
	if s.RefreshToken, err = c.Seal(t.RefreshToken); err != nil {
		return s, err
	}
	if s.IDToken, err = c.Seal(t.IDToken); err != nil {
		return s, err
	}
	s.AccessTokenExpiresAt, s.RefreshTokenExpiresAt, s.Scope = t.AccessTokenExpiresAt, t.RefreshTokenExpiresAt, t.Scope
	return s, nil
}

// endPrevious deletes the session the browser presented before this sign-in.
// Failure is logged, not fatal: the new session is already created.
func (h *CompleteSignInHandler) endPrevious(ctx context.Context, raw string) {
	token, err := domain.ParseSessionToken(raw)
	if err != nil {
		return
	}
	view, err := h.sessions.Lookup(ctx, token.Hash())
	if err != nil {
		return
	}
	if err := h.sessions.Delete(ctx, view.Session.ID()); err != nil && !errors.Is(err, domain.ErrSessionNotFound) {
		h.log.WarnContext(ctx, "could not end the previous session", "session_id", view.Session.ID(), "error", err.Error())
		return
	}
	h.obs.SessionsRevoked("replaced", 1)
}
