package ports

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/authbff/authbff/domain"
)

// SessionView is a session together with what a request needs to know about
// its owner, read in a single database round trip.
type SessionView struct {
	Session       *domain.Session
	User          domain.User
	Roles         []domain.Role
	Organizations []domain.Organization
	// Rendered is set on a view that a cache shares between reads until a
	// change drops it: a driving adapter may keep there what it rendered
	// from the view, so a cache hit is answered without rendering again.
	// Nil on a view read for this request alone.
	Rendered *RenderMemo
}

// RenderMemo holds bytes rendered once from a view that does not change.
// Safe for concurrent use; a nil *RenderMemo keeps nothing.
type RenderMemo struct{ b atomic.Pointer[[]byte] }

// Load returns the stored bytes, or nil.
func (m *RenderMemo) Load() []byte {
	if m == nil {
		return nil
	}
	if p := m.b.Load(); p != nil {
		return *p
	}
	return nil
}

// Store keeps b, which must not be modified afterwards.
func (m *RenderMemo) Store(b []byte) {
	if m != nil {
		m.b.Store(&b)
	}
}

// SessionStore keeps sessions. Implementations must be safe for concurrent
// use by many processes sharing one database.
type SessionStore interface {
	// Create stores a new session. It returns domain.ErrConflict if the token
	// hash is already taken and domain.ErrUserNotFound if the user does not
	// exist.
	Create(ctx context.Context, s *domain.Session) error
	// Lookup returns the session whose token hash is hash, with its user,
	// roles and organizations, in one round trip. It does not check expiry.
	// It returns domain.ErrSessionNotFound if no session has this hash.
	Lookup(ctx context.Context, hash domain.TokenHash) (SessionView, error)
	// LookupView is the part of Lookup that rendering a session needs: the
	// session's id, token hash, user, expiries and active organization (no
	// tokens, addresses or bookkeeping times), the user's id, name, email and
	// image, roles and organizations. It may answer from a bounded in-process cache
	// that every committed change to the session or its user invalidates
	// (other replicas' changes within moments, and in any case within the
	// cache's TTL); expiry is not checked, so callers check it on every read.
	// The returned session must not be modified. It returns
	// domain.ErrSessionNotFound if no session has this hash.
	LookupView(ctx context.Context, hash domain.TokenHash) (SessionView, error)
	// Update loads the session with this id under a row lock, calls fn and,
	// if fn returns nil, writes the session back in the same transaction.
	// Concurrent Updates of one session are serialised. It returns
	// domain.ErrSessionNotFound if there is no such session, or fn's error.
	Update(ctx context.Context, id string, fn func(*domain.Session) error) error
	// Delete removes the session with this id. It returns
	// domain.ErrSessionNotFound if there is no such session.
	Delete(ctx context.Context, id string) error
	// ListByUser returns the user's sessions, newest first, expired ones
	// included. An unknown user has no sessions (empty slice, nil error).
	ListByUser(ctx context.Context, userID string) ([]*domain.Session, error)
	// DeleteByUser removes all sessions of the user except the one with id
	// except (pass "" to remove all) and returns how many it removed.
	DeleteByUser(ctx context.Context, userID, except string) (int64, error)

	// The refresh lease serialises token refreshes of one session across
	// processes without holding a row lock or a connection while the IdP is
	// called: a refresh takes the lease, calls the IdP, then stores the new
	// tokens and frees the lease, each database step a short transaction of
	// its own. A lease ends by itself at its expiry, so a holder that crashed
	// frees it. It does not block Lookup, Update or Delete.

	// AcquireRefreshLease gives the session's refresh lease to owner until
	// until, if it is free, expired at now (expiry at or before now), or
	// already owner's; and returns the session as stored when it was taken,
	// so the holder decides on the current tokens. It returns
	// ErrRefreshLeaseHeld if another owner holds a lease unexpired at now,
	// domain.ErrSessionNotFound if there is no such session, and an error
	// wrapping domain.ErrUnavailable when the database cannot be reached.
	AcquireRefreshLease(ctx context.Context, id, owner string, now, until time.Time) (*domain.Session, error)
	// ReleaseRefreshLease frees the session's refresh lease if owner holds
	// it (expired or not). Releasing a lease owner does not hold, or of a
	// session that no longer exists, does nothing and returns nil.
	ReleaseRefreshLease(ctx context.Context, id, owner string) error
	// UpdateUnderLease is Update for the lease holder: it loads the session
	// under a row lock, checks that owner still holds its refresh lease (an
	// expired lease nobody took over still counts), calls fn, writes the
	// session back and frees the lease, all in one transaction. It returns
	// ErrRefreshLeaseLost (nothing written) if the lease is no longer
	// owner's, domain.ErrSessionNotFound if there is no such session, or
	// fn's error (nothing written, the lease kept: release it).
	UpdateUnderLease(ctx context.Context, id, owner string, fn func(*domain.Session) error) error
}

// ErrRefreshLeaseHeld means another refresh of the session holds its lease:
// wait and try again, or re-read the session once it is released.
var ErrRefreshLeaseHeld = errors.New("refresh lease held by another refresh")

// ErrRefreshLeaseLost means the caller's refresh lease expired and was taken
// over, or was released: what it wanted to store was not written.
var ErrRefreshLeaseLost = errors.New("refresh lease lost")

// SessionMaintenance is the operator's view of the sessions table: cleanup
// and statistics. It is split from SessionStore because request handling
// never needs it.
type SessionMaintenance interface {
	// DeleteExpired removes at most limit sessions whose idle or absolute
	// expiry is at or before now, and returns how many it removed. Callers
	// loop until it returns less than limit. Safe to run from many processes
	// at once: each batch locks only the rows it deletes.
	DeleteExpired(ctx context.Context, now time.Time, limit int) (int64, error)
	// Stats computes the session statistics as of now.
	Stats(ctx context.Context, now time.Time) (domain.SessionStats, error)
}
