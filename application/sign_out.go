package application

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
)

// SignOut ends a session (POST /api/auth/signout).
type SignOut struct {
	// Token is the raw session cookie; empty when the browser has none.
	Token string
	// PostLogoutRedirectURI is where the IdP sends the browser after ending
	// its own session.
	PostLogoutRedirectURI string
	// State is passed to the IdP with PostLogoutRedirectURI and comes back
	// on its redirect; "" for none.
	State string
}

// SignOutResult says where to send the browser.
type SignOutResult struct {
	// EndSessionURL is the IdP's RP-initiated logout URL with id_token_hint,
	// so the IdP session ends too; "" when there was no session.
	EndSessionURL string
}

// SignOutHandler runs SignOut.
type SignOutHandler struct {
	idp      ports.IdentityProvider
	sessions ports.SessionStore
	cipher   ports.TokenCipher
	obs      ports.Observer
	log      *slog.Logger
}

// NewSignOutHandler returns a SignOutHandler.
func NewSignOutHandler(idp ports.IdentityProvider, sessions ports.SessionStore, cipher ports.TokenCipher, obs ports.Observer, log *slog.Logger) *SignOutHandler {
	return &SignOutHandler{idp: idp, sessions: sessions, cipher: cipher, obs: obs, log: log}
}

// Handle deletes the session row and returns the IdP end-session URL. A
// missing or unknown session is not an error: signing out is idempotent.
func (h *SignOutHandler) Handle(ctx context.Context, cmd SignOut) (SignOutResult, error) {
	token, err := domain.ParseSessionToken(cmd.Token)
	if err != nil {
		return SignOutResult{}, nil
	}
	view, err := h.sessions.Lookup(ctx, token.Hash())
	if errors.Is(err, domain.ErrSessionNotFound) {
		return SignOutResult{}, nil
	}
	if err != nil {
		return SignOutResult{}, fmt.Errorf("sign out: %w", err)
	}
	sess := view.Session
	if err := h.sessions.Delete(ctx, sess.ID()); err != nil && !errors.Is(err, domain.ErrSessionNotFound) {
		return SignOutResult{}, fmt.Errorf("sign out: %w", err)
	}
	h.obs.SessionsRevoked("signout", 1)
	h.log.InfoContext(ctx, "sign-out", "user_id", sess.UserID(), "session_id", sess.ID())
	idToken, err := h.cipher.Open(sess.Tokens().IDToken)
	if err != nil {
		idToken = "" // still end the IdP session; Keycloak then asks the user to confirm
	}
	if sess.Provider() != h.idp.ID() {
		return SignOutResult{}, nil
	}
	return SignOutResult{EndSessionURL: h.idp.EndSessionURL(idToken, cmd.PostLogoutRedirectURI, cmd.State)}, nil
}
