package application

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
)

// GetSession resolves a session cookie (GET /api/auth/session and every
// authenticated route).
type GetSession struct {
	// Token is the raw cookie value.
	Token string
	// ViewOnly says the caller only renders the session (GET /session): its
	// session carries no OAuth tokens, and the read may come from the
	// session cache. Callers that use the tokens leave it false.
	ViewOnly bool
}

// SessionInfo is an active session with its user.
type SessionInfo struct {
	Session       *domain.Session
	User          domain.User
	Roles         []domain.Role
	Organizations []domain.Organization
	// ActiveOrganization is the session's active organization, if any.
	ActiveOrganization *domain.Organization
	// StoredExpires is the expiry as stored before this request (Auth.js
	// returns this one in the session JSON).
	StoredExpires time.Time
	// CookieExpires is when the re-sent cookie should expire.
	CookieExpires time.Time
	// Rendered is the view's RenderMemo when nothing in this read changed
	// the session: what the adapter renders from the fields above may be
	// kept there for the next reads of the same cached view.
	Rendered *ports.RenderMemo
}

// HasRole reports whether the user has the role from any source.
func (s SessionInfo) HasRole(name string) bool { return domain.HasRole(s.Roles, name) }

// GetSessionHandler runs GetSession.
type GetSessionHandler struct {
	sessions ports.SessionStore
	policy   domain.SessionPolicy
	now      Clock
}

// NewGetSessionHandler returns a GetSessionHandler.
func NewGetSessionHandler(sessions ports.SessionStore, policy domain.SessionPolicy, now Clock) *GetSessionHandler {
	return &GetSessionHandler{sessions: sessions, policy: policy, now: now}
}

// Handle looks the session up by its token hash: one database round trip at
// steady state (none when a ViewOnly read is served from the cache). At most once per update age it also writes the slid expiry.
// An expired session is deleted and reported as domain.ErrSessionExpired;
// an unknown or malformed token as domain.ErrSessionNotFound.
func (h *GetSessionHandler) Handle(ctx context.Context, q GetSession) (SessionInfo, error) {
	token, err := domain.ParseSessionToken(q.Token)
	if err != nil {
		return SessionInfo{}, domain.ErrSessionNotFound
	}
	lookup := h.sessions.Lookup
	if q.ViewOnly {
		lookup = h.sessions.LookupView
	}
	view, err := lookup(ctx, token.Hash())
	if err != nil {
		return SessionInfo{}, err
	}
	now := h.now()
	sess := view.Session
	if !sess.IsActive(now) {
		// Best effort: cleanup removes it anyway if this delete fails.
		if err := h.sessions.Delete(ctx, sess.ID()); err != nil && !errors.Is(err, domain.ErrSessionNotFound) &&
			!errors.Is(err, domain.ErrUnavailable) {
			return SessionInfo{}, fmt.Errorf("delete expired session: %w", err)
		}
		return SessionInfo{}, domain.ErrSessionExpired
	}
	stored := sess.Expires()
	rendered := view.Rendered
	if _, renew := h.policy.Renewal(sess.Expires(), sess.AbsoluteExpires(), now); renew {
		err := h.sessions.Update(ctx, sess.ID(), func(s *domain.Session) error {
			s.Touch(h.policy, now)
			sess = s
			return nil
		})
		rendered = nil
		if err != nil {
			return SessionInfo{}, fmt.Errorf("renew session: %w", err)
		}
	}
	info := SessionInfo{
		Session: sess, User: view.User, Roles: view.Roles, Organizations: view.Organizations,
		StoredExpires: stored, CookieExpires: cookieExpiry(h.policy, sess, now), Rendered: rendered,
	}
	for i := range view.Organizations {
		if view.Organizations[i].ID == sess.ActiveOrganizationID() {
			info.ActiveOrganization = &view.Organizations[i]
		}
	}
	return info, nil
}

// cookieExpiry is now + max age, never past the absolute expiry, as Auth.js
// re-sends the cookie on every session read.
func cookieExpiry(p domain.SessionPolicy, s *domain.Session, now time.Time) time.Time {
	e := now.Add(p.MaxAge)
	if s.AbsoluteExpires().Before(e) {
		return s.AbsoluteExpires()
	}
	return e
}
