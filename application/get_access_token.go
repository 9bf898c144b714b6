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

// DefaultRefreshSkew is how long before its expiry an access token is
// refreshed, so a token handed out is still valid when it reaches the API.
const DefaultRefreshSkew = 30 * time.Second

// GetAccessToken returns a usable access token for an active session,
// refreshing it first when it is within the skew of expiry.
type GetAccessToken struct {
	Session *domain.Session
}

// AccessToken is a plaintext access token for server-side use. It never goes
// into logs.
type AccessToken struct {
	Value     string
	TokenType string
	ExpiresAt time.Time
	Refreshed bool
}

// GetAccessTokenHandler runs GetAccessToken. Refreshes are serialised per
// session: in-process by singleflight, across processes by the session row
// lock that SessionStore.Update holds while the IdP is called. The row is
// re-read under the lock, so a process that waited finds the tokens another
// one just stored and does not refresh again: with refresh-token rotation and
// reuse detection, a second refresh with the old token would end the session.
type GetAccessTokenHandler struct {
	idp      ports.IdentityProvider
	sessions ports.SessionStore
	users    ports.UserStore
	cipher   ports.TokenCipher
	obs      ports.Observer
	now      Clock
	log      *slog.Logger
	skew     time.Duration
	timeout  time.Duration
	group    flightGroup
	orgIDs   *OrganizationIDs
}

// NewGetAccessTokenHandler returns a GetAccessTokenHandler. orgIDs may be
// nil: organizations are then stored with the ids the token carried.
func NewGetAccessTokenHandler(idp ports.IdentityProvider, sessions ports.SessionStore, users ports.UserStore,
	cipher ports.TokenCipher, obs ports.Observer, now Clock, log *slog.Logger, orgIDs *OrganizationIDs) *GetAccessTokenHandler {
	return &GetAccessTokenHandler{idp: idp, sessions: sessions, users: users, cipher: cipher, obs: obs, now: now, log: log,
		skew: DefaultRefreshSkew, timeout: 30 * time.Second, orgIDs: orgIDs}
}

// Handle returns the session's access token, refreshed if needed. Errors:
// ErrRefreshRejected (the session was ended and deleted), an error wrapping
// domain.ErrUnavailable (the IdP or database is down; the session is kept and
// the caller should retry), domain.ErrSessionNotFound (revoked meanwhile).
func (h *GetAccessTokenHandler) Handle(ctx context.Context, q GetAccessToken) (AccessToken, error) {
	sess := q.Session
	if tok, ok, err := h.fresh(sess.Tokens()); err != nil || ok {
		return tok, err
	}
	// One refresh per session per process; the others wait for its result.
	// The shared call does not inherit one caller's cancellation.
	return h.group.do(sess.ID(), func() (AccessToken, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.timeout)
		defer cancel()
		return h.refresh(ctx, sess.ID(), sess.UserID())
	})
}

// fresh opens the stored access token if it is not due for refresh.
func (h *GetAccessTokenHandler) fresh(t domain.SealedTokens) (AccessToken, bool, error) {
	if len(t.AccessToken) == 0 || t.AccessTokenExpiresAt.IsZero() || !h.now().Add(h.skew).Before(t.AccessTokenExpiresAt) {
		return AccessToken{}, false, nil
	}
	v, err := h.cipher.Open(t.AccessToken)
	if err != nil {
		return AccessToken{}, false, nil // undecryptable (key removed): refresh instead
	}
	return AccessToken{Value: v, TokenType: "Bearer", ExpiresAt: t.AccessTokenExpiresAt}, true, nil
}

func (h *GetAccessTokenHandler) refresh(ctx context.Context, sessionID, userID string) (AccessToken, error) {
	var out AccessToken
	var identity *ports.Identity
	err := h.sessions.Update(ctx, sessionID, func(s *domain.Session) error {
		// Re-read under the lock: another process may have refreshed.
		if tok, ok, _ := h.fresh(s.Tokens()); ok {
			out = tok
			return nil
		}
		rt, err := h.cipher.Open(s.Tokens().RefreshToken)
		if err != nil {
			return fmt.Errorf("%w: stored refresh token cannot be opened", ErrRefreshRejected)
		}
		idTok, _ := h.cipher.Open(s.Tokens().IDToken)
		id, set, err := h.idp.Refresh(ctx, rt, idTok)
		if err != nil {
			return err
		}
		if set.IDToken == "" {
			set.IDToken = idTok // keep the hint for RP-initiated logout
		}
		sealed, err := sealTokens(h.cipher, set)
		if err != nil {
			return err
		}
		s.ReplaceTokens(sealed, h.now())
		identity = &id
		out = AccessToken{Value: set.AccessToken, TokenType: "Bearer", ExpiresAt: set.AccessTokenExpiresAt, Refreshed: true}
		return nil
	})
	switch {
	case errors.Is(err, ErrRefreshRejected), errors.Is(err, ErrAuthorizationFailed):
		// The IdP ended this login (revoked, expired, reused token, or tokens
		// for someone else): so does authbff.
		if derr := h.sessions.Delete(ctx, sessionID); derr != nil && !errors.Is(derr, domain.ErrSessionNotFound) {
			h.log.WarnContext(ctx, "could not delete session after refused refresh", "session_id", sessionID, "error", derr.Error())
		}
		h.obs.Refresh("rejected")
		h.obs.SessionsRevoked("refresh_rejected", 1)
		h.log.InfoContext(ctx, "session ended: refresh refused", "session_id", sessionID, "user_id", userID, "reason", err.Error())
		return AccessToken{}, fmt.Errorf("%w: %w", ErrRefreshRejected, err)
	case err != nil:
		if errors.Is(err, domain.ErrUnavailable) {
			h.obs.Refresh("unavailable")
		}
		return AccessToken{}, err
	}
	if identity != nil {
		h.obs.Refresh("success")
		h.log.InfoContext(ctx, "tokens refreshed", "session_id", sessionID, "user_id", userID)
		h.resync(ctx, userID, *identity)
	}
	return out, nil
}

// resync re-applies roles and memberships from the refreshed tokens. A
// failure is logged, not fatal: the new tokens are stored and usable.
func (h *GetAccessTokenHandler) resync(ctx context.Context, userID string, id ports.Identity) {
	u, err := h.users.User(ctx, userID)
	if err != nil {
		h.log.WarnContext(ctx, "role sync after refresh skipped", "user_id", userID, "error", err.Error())
		return
	}
	name, email := id.Name, id.Email
	if name == "" {
		name = u.Name
	}
	if email == "" {
		email = u.Email
	}
	orgs := h.orgIDs.Complete(ctx, id.Organizations)
	_, err = h.users.SyncIdentity(ctx, ports.IdentitySync{
		Provider: h.idp.ID(), Subject: id.Subject, Name: name, Email: email,
		EmailVerified: id.EmailVerified || u.EmailVerified != nil, Image: u.Image,
		Roles: id.Roles, Organizations: orgs, Now: h.now(),
	})
	if err != nil {
		h.log.WarnContext(ctx, "role sync after refresh failed", "user_id", userID, "error", err.Error())
	}
}
