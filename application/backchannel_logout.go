package application

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

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
	// The jti is remembered until the token expires: a captured token
	// cannot be replayed, on this replica or any other.
	err = h.replays.Save(ctx, domain.VerificationToken{
		Identifier: logoutJTIIdentifier, TokenHash: domain.HashSecret(claims.Issuer + "\x00" + claims.JTI), Expires: claims.Expires,
	})
	if errors.Is(err, domain.ErrConflict) {
		return 0, fmt.Errorf("%w: replayed jti", ErrInvalidLogoutToken)
	}
	if err != nil {
		return 0, fmt.Errorf("backchannel logout: %w", err)
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
	h.obs.SessionsRevoked("backchannel", n)
	h.log.InfoContext(ctx, "back-channel logout", "sid_present", claims.SessionID != "", "sessions", n)
	return n, nil
}
