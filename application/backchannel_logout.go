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

// ErrInvalidLogoutToken is the verifier's verdict, re-exported for the HTTP
// adapter.
var ErrInvalidLogoutToken = ports.ErrInvalidLogoutToken

// logoutJTIIdentifier namespaces replay records of logout tokens in the
// one-time token store.
const logoutJTIIdentifier = "backchannel-logout:jti"

// BackchannelLogout handles a logout token POSTed by the IdP
// (POST /api/auth/backchannel-logout).
type BackchannelLogout struct {
	LogoutToken string
}

// BackchannelLogoutHandler runs BackchannelLogout.
type BackchannelLogoutHandler struct {
	verifier ports.LogoutTokenVerifier
	idp      ports.IdentityProvider
	revoker  ports.SessionRevoker
	replays  ports.VerificationTokenStore
	obs      ports.Observer
	log      *slog.Logger
}

// NewBackchannelLogoutHandler returns a BackchannelLogoutHandler.
func NewBackchannelLogoutHandler(verifier ports.LogoutTokenVerifier, idp ports.IdentityProvider, revoker ports.SessionRevoker,
	replays ports.VerificationTokenStore, obs ports.Observer, log *slog.Logger) *BackchannelLogoutHandler {
	return &BackchannelLogoutHandler{verifier: verifier, idp: idp, revoker: revoker, replays: replays, obs: obs, log: log}
}

// Handle verifies the token, refuses a replayed jti, and deletes the
// sessions of its sid (or, without sid, every session of its sub) before
// returning, so no request is served on those sessions after the IdP gets
// its answer. It returns an error wrapping ErrInvalidLogoutToken for a bad
// or replayed token.
func (h *BackchannelLogoutHandler) Handle(ctx context.Context, cmd BackchannelLogout) (int64, error) {
	claims, err := h.verifier.VerifyLogoutToken(ctx, cmd.LogoutToken)
	if err != nil {
		return 0, err
	}
	// The sessions are deleted first and the jti recorded after: if the
	// delete fails (503), the IdP's retry of the same token still works. A
	// replay racing in between only deletes what is already gone.
	replay := domain.VerificationToken{
		Identifier: logoutJTIIdentifier, TokenHash: domain.HashSecret(claims.Issuer + "\x00" + claims.JTI), Expires: claims.Expires,
	}
	if seen, err := h.seen(ctx, replay); err != nil {
		return 0, err
	} else if seen {
		return 0, fmt.Errorf("%w: replayed jti", ErrInvalidLogoutToken)
	}
	var n int64
	if claims.SessionID != "" {
		n, err = h.revoker.DeleteByProviderSession(ctx, h.idp.ID(), claims.SessionID)
	} else {
		n, err = h.revoker.DeleteByProviderSubject(ctx, h.idp.ID(), claims.Subject)
	}
	if err != nil {
		return 0, fmt.Errorf("backchannel logout: %w", err)
	}
	// Remembered until the token expires, on every replica.
	if err := h.replays.Save(ctx, replay); err != nil && !errors.Is(err, domain.ErrConflict) {
		h.log.WarnContext(ctx, "could not record logout token jti", "error", err.Error())
	}
	h.obs.SessionsRevoked("backchannel", n)
	h.log.InfoContext(ctx, "back-channel logout", "sid_present", claims.SessionID != "", "sessions", n)
	return n, nil
}

// seen reports whether the logout token's jti was already used. The replay
// store offers consume-once only, so a lookup consumes and re-saves.
func (h *BackchannelLogoutHandler) seen(ctx context.Context, v domain.VerificationToken) (bool, error) {
	_, err := h.replays.Consume(ctx, v.Identifier, v.TokenHash, time.Now())
	switch {
	case errors.Is(err, domain.ErrVerificationTokenNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("backchannel logout: %w", err)
	}
	if err := h.replays.Save(ctx, v); err != nil && !errors.Is(err, domain.ErrConflict) {
		return true, fmt.Errorf("backchannel logout: %w", err)
	}
	return true, nil
}
