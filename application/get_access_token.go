package application

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
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

// Refresh lease timings. The lease outlives the longest a holder can spend
// on the IdP (the refresh timeout) by a margin, so only a crashed holder
// lets it expire; a waiter gives up before that and answers 503.
const (
	// DefaultRefreshTimeout bounds one refresh: lease, IdP call and store.
	DefaultRefreshTimeout = 30 * time.Second
	// DefaultLeaseMargin is how much longer than the refresh timeout a
	// lease lasts.
	DefaultLeaseMargin = 15 * time.Second
	// DefaultLeaseWait is how long a refresh waits for another process's
	// refresh of the same session, longer than the IdP adapter's own
	// timeout so a slow but answering IdP is waited out.
	DefaultLeaseWait = 15 * time.Second
)

// Polling for a held lease backs off from leasePollMin to leasePollMax, with
// jitter so waiters in many processes do not poll in step.
const (
	leasePollMin = 20 * time.Millisecond
	leasePollMax = 500 * time.Millisecond
)

// GetAccessTokenHandler runs GetAccessToken. Refreshes are serialised per
// session: in-process by singleflight, across processes by the session's
// refresh lease (ports.SessionStore.AcquireRefreshLease). The lease is taken
// and released in short transactions and the IdP is called with no database
// connection held, so a slow IdP cannot drain the pool. The session is read
// when the lease is taken, so a process that waited finds the tokens another
// one just stored and does not refresh again: with refresh-token rotation and
// reuse detection, a second refresh with the old token would end the session.
type GetAccessTokenHandler struct {
	idp       ports.IdentityProvider
	sessions  ports.SessionStore
	users     ports.UserStore
	cipher    ports.TokenCipher
	obs       ports.Observer
	now       Clock
	log       *slog.Logger
	skew      time.Duration
	timeout   time.Duration
	leaseTTL  time.Duration
	leaseWait time.Duration
	group     flightGroup
	orgIDs    *OrganizationIDs
}

// NewGetAccessTokenHandler returns a GetAccessTokenHandler. orgIDs may be
// nil: organizations are then stored with the ids the token carried.
func NewGetAccessTokenHandler(idp ports.IdentityProvider, sessions ports.SessionStore, users ports.UserStore,
	cipher ports.TokenCipher, obs ports.Observer, now Clock, log *slog.Logger, orgIDs *OrganizationIDs) *GetAccessTokenHandler {
	return &GetAccessTokenHandler{idp: idp, sessions: sessions, users: users, cipher: cipher, obs: obs, now: now, log: log,
		skew: DefaultRefreshSkew, timeout: DefaultRefreshTimeout, orgIDs: orgIDs,
		leaseTTL: DefaultRefreshTimeout + DefaultLeaseMargin, leaseWait: DefaultLeaseWait}
}

// WithLeaseWait sets how long a refresh waits for another holder of the
// session's lease before answering unavailable (tests shorten it).
func (h *GetAccessTokenHandler) WithLeaseWait(d time.Duration) *GetAccessTokenHandler {
	h.leaseWait = d
	return h
}

// Handle returns the session's access token, refreshed if needed. Errors:
// ErrRefreshRejected (the session was ended and deleted), an error wrapping
// domain.ErrUnavailable (the IdP or database is down, the IdP bulkhead is
// full, or another refresh of the session holds its lease too long; the
// session is kept and the caller should retry), domain.ErrSessionNotFound
// (revoked meanwhile).
func (h *GetAccessTokenHandler) Handle(ctx context.Context, q GetAccessToken) (AccessToken, error) {
	sess := q.Session
	if tok, ok, err := h.fresh(sess.Tokens()); err != nil || ok {
		return tok, err
	}
	// One refresh per session per process; the others wait for its result.
	// The shared call does not inherit one caller's cancellation: once the
	// IdP has rotated the refresh token, the new one must be stored.
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

// refresh takes the session's lease, and refreshes under it unless the
// tokens it finds are fresh. Every database step is short; the IdP call in
// between holds no connection.
func (h *GetAccessTokenHandler) refresh(ctx context.Context, sessionID, userID string) (AccessToken, error) {
	owner := domain.NewID() // this attempt: a lease is never shared between attempts
	s, waited, err := h.acquireLease(ctx, sessionID, owner)
	if err != nil {
		return AccessToken{}, err
	}
	stored := false
	defer func() {
		if !stored { // the lease is ours and nothing was stored: free it for the next attempt
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), leaseReleaseTimeout)
			defer cancel()
			if err := h.sessions.ReleaseRefreshLease(rctx, sessionID, owner); err != nil {
				h.log.WarnContext(ctx, "could not release refresh lease; it expires by itself",
					"session_id", sessionID, "error", err.Error())
			}
		}
	}()
	// Re-read under the lease: another process may have refreshed.
	if tok, ok, _ := h.fresh(s.Tokens()); ok {
		return tok, nil
	}
	if waited {
		// Another refresh of this session held the lease and ended without
		// storing fresh tokens: it failed, and may have reached the IdP.
		// Refreshing again now could present a refresh token the IdP has
		// already rotated, which ends the session; the client retries.
		h.obs.Refresh("unavailable")
		return AccessToken{}, fmt.Errorf("%w: a concurrent refresh of this session failed", domain.ErrUnavailable)
	}
	rt, err := h.cipher.Open(s.Tokens().RefreshToken)
	if err != nil {
		return AccessToken{}, h.rejected(ctx, sessionID, userID, fmt.Errorf("%w: stored refresh token cannot be opened", ErrRefreshRejected))
	}
	idTok, _ := h.cipher.Open(s.Tokens().IDToken)
	id, set, err := h.idp.Refresh(ctx, rt, idTok)
	switch {
	case errors.Is(err, ErrRefreshRejected), errors.Is(err, ErrAuthorizationFailed):
		return AccessToken{}, h.rejected(ctx, sessionID, userID, err)
	case err != nil:
		if errors.Is(err, domain.ErrUnavailable) {
			h.obs.Refresh("unavailable")
		}
		return AccessToken{}, err
	}
	if set.IDToken == "" {
		set.IDToken = idTok // keep the hint for RP-initiated logout
	}
	sealed, err := sealTokens(h.cipher, set)
	if err != nil {
		return AccessToken{}, err
	}
	// The refresh token may have been rotated: store it even if the refresh
	// budget ran out meanwhile (the store bounds its own transaction).
	err = h.sessions.UpdateUnderLease(context.WithoutCancel(ctx), sessionID, owner, func(s *domain.Session) error {
		s.ReplaceTokens(sealed, h.now())
		return nil
	})
	switch {
	case err == nil:
		stored = true // the same transaction freed the lease
	case errors.Is(err, ports.ErrRefreshLeaseLost):
		stored = true // not ours any more: nothing to release
		h.obs.Refresh("unavailable")
		h.log.WarnContext(ctx, "refreshed tokens not stored: the refresh lease expired and was taken over",
			"session_id", sessionID, "user_id", userID)
		return AccessToken{}, fmt.Errorf("%w: refresh outlived its lease", domain.ErrUnavailable)
	default:
		if errors.Is(err, domain.ErrUnavailable) {
			h.obs.Refresh("unavailable")
		}
		return AccessToken{}, err
	}
	h.obs.Refresh("success")
	h.log.InfoContext(ctx, "tokens refreshed", "session_id", sessionID, "user_id", userID)
	h.resync(ctx, userID, id)
	return AccessToken{Value: set.AccessToken, TokenType: "Bearer", ExpiresAt: set.AccessTokenExpiresAt, Refreshed: true}, nil
}

// leaseReleaseTimeout bounds the release of a lease after a failed refresh,
// detached from the refresh's own (maybe spent) budget.
const leaseReleaseTimeout = 5 * time.Second

// acquireLease takes the session's refresh lease for owner, waiting (polled
// with backoff, at most leaseWait) while another refresh holds it. waited
// reports that another holder was seen. A wait that runs out is
// domain.ErrUnavailable: the session is kept.
func (h *GetAccessTokenHandler) acquireLease(ctx context.Context, sessionID, owner string) (*domain.Session, bool, error) {
	waitCtx, cancel := context.WithTimeout(ctx, h.leaseWait)
	defer cancel()
	delay, waited := leasePollMin, false
	for {
		now := h.now()
		s, err := h.sessions.AcquireRefreshLease(ctx, sessionID, owner, now, now.Add(h.leaseTTL))
		if !errors.Is(err, ports.ErrRefreshLeaseHeld) {
			return s, waited, err
		}
		waited = true
		t := time.NewTimer(delay/2 + rand.N(delay/2+1)) //nolint:gosec // jitter, not a secret
		select {
		case <-waitCtx.Done():
			t.Stop()
			h.obs.Refresh("unavailable")
			return nil, waited, fmt.Errorf("%w: another refresh of this session is still running", domain.ErrUnavailable)
		case <-t.C:
		}
		delay = min(2*delay, leasePollMax)
	}
}

// rejected ends the session after the IdP refused its refresh for good
// (revoked, expired, reused token, or tokens for someone else).
func (h *GetAccessTokenHandler) rejected(ctx context.Context, sessionID, userID string, err error) error {
	if derr := h.sessions.Delete(context.WithoutCancel(ctx), sessionID); derr != nil && !errors.Is(derr, domain.ErrSessionNotFound) {
		h.log.WarnContext(ctx, "could not delete session after refused refresh", "session_id", sessionID, "error", derr.Error())
	}
	h.obs.Refresh("rejected")
	h.obs.SessionsRevoked("refresh_rejected", 1)
	h.log.InfoContext(ctx, "session ended: refresh refused", "session_id", sessionID, "user_id", userID, "reason", err.Error())
	return fmt.Errorf("%w: %w", ErrRefreshRejected, err)
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
