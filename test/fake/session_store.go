package fake

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
)

// SessionStore is an in-memory ports.SessionStore. Sessions must belong to
// users of the UserStore it was built with.
type SessionStore struct {
	users *UserStore

	// updateMu stands in for the row lock: Updates run one at a time. A
	// callback must therefore not call Update itself.
	updateMu sync.Mutex

	mu     sync.Mutex
	byID   map[string]domain.SessionRecord
	byHash map[domain.TokenHash]string // token hash -> id
	leases map[string]lease            // session id -> its refresh lease
	// deleteErr, when set, is what Delete answers (and deletes nothing):
	// a database that fails in a way a real one does not on demand.
	deleteErr error
}

// FailDeletes makes Delete answer err without deleting; nil restores it.
func (s *SessionStore) FailDeletes(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deleteErr = err
}

// lease is a session's refresh lease, as the lease columns hold it.
type lease struct {
	owner string
	until time.Time
}

// NewSessionStore returns an empty SessionStore whose sessions belong to
// users of users.
func NewSessionStore(users *UserStore) *SessionStore {
	return &SessionStore{users: users, byID: map[string]domain.SessionRecord{}, byHash: map[domain.TokenHash]string{},
		leases: map[string]lease{}}
}

var _ ports.SessionStore = (*SessionStore)(nil)

// Create implements ports.SessionStore.
func (s *SessionStore) Create(_ context.Context, sess *domain.Session) error {
	r := cloneRecord(sess.Record())
	if !s.users.exists(r.UserID) {
		return fmt.Errorf("create session: %w", domain.ErrUserNotFound)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, taken := s.byID[r.ID]; taken {
		return fmt.Errorf("create session: %w: id", domain.ErrConflict)
	}
	if _, taken := s.byHash[r.TokenHash]; taken {
		return fmt.Errorf("create session: %w: token hash", domain.ErrConflict)
	}
	s.byID[r.ID] = r
	s.byHash[r.TokenHash] = r.ID
	return nil
}

// Lookup implements ports.SessionStore.
func (s *SessionStore) Lookup(_ context.Context, hash domain.TokenHash) (ports.SessionView, error) {
	s.mu.Lock()
	r, ok := s.byID[s.byHash[hash]]
	s.mu.Unlock()
	if !ok {
		return ports.SessionView{}, domain.ErrSessionNotFound
	}
	u, roles, orgs, ok := s.users.view(r.UserID)
	if !ok { // the user went away; the cascade would have taken the session
		return ports.SessionView{}, domain.ErrSessionNotFound
	}
	return ports.SessionView{Session: domain.RehydrateSession(cloneRecord(r)), User: u, Roles: roles, Organizations: orgs}, nil
}

// LookupView implements ports.SessionStore: Lookup without the sealed
// tokens (the fake has no cache).
func (s *SessionStore) LookupView(ctx context.Context, hash domain.TokenHash) (ports.SessionView, error) {
	v, err := s.Lookup(ctx, hash)
	if err != nil {
		return v, err
	}
	r := v.Session.Record()
	r.Tokens = domain.SealedTokens{AccessTokenExpiresAt: r.Tokens.AccessTokenExpiresAt,
		RefreshTokenExpiresAt: r.Tokens.RefreshTokenExpiresAt, Scope: r.Tokens.Scope}
	v.Session = domain.RehydrateSession(r)
	return v, nil
}

// Update implements ports.SessionStore.
func (s *SessionStore) Update(_ context.Context, id string, fn func(*domain.Session) error) error {
	return s.update(id, "", fn)
}

// update is Update, and UpdateUnderLease when leaseOwner is set.
func (s *SessionStore) update(id, leaseOwner string, fn func(*domain.Session) error) error {
	s.updateMu.Lock()
	defer s.updateMu.Unlock()
	s.mu.Lock()
	r, ok := s.byID[id]
	held := s.leases[id].owner
	s.mu.Unlock()
	if !ok {
		return domain.ErrSessionNotFound
	}
	if leaseOwner != "" && held != leaseOwner {
		return ports.ErrRefreshLeaseLost
	}
	sess := domain.RehydrateSession(cloneRecord(r))
	if err := fn(sess); err != nil {
		return err
	}
	next := cloneRecord(sess.Record())
	next.ID = id
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, still := s.byID[id]; !still {
		return nil // deleted meanwhile: the store's UPDATE would match no row
	}
	if owner, taken := s.byHash[next.TokenHash]; taken && owner != id {
		return fmt.Errorf("update session: %w: token hash", domain.ErrConflict)
	}
	if leaseOwner != "" {
		if s.leases[id].owner != leaseOwner {
			return ports.ErrRefreshLeaseLost // released meanwhile: a transaction would have seen it first
		}
		delete(s.leases, id)
	}
	delete(s.byHash, r.TokenHash)
	s.byID[id] = next
	s.byHash[next.TokenHash] = id
	return nil
}

// AcquireRefreshLease implements ports.SessionStore.
func (s *SessionStore) AcquireRefreshLease(_ context.Context, id, owner string, now, until time.Time) (*domain.Session, error) {
	if owner == "" {
		return nil, fmt.Errorf("acquire refresh lease: empty owner")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.byID[id]
	if !ok {
		return nil, domain.ErrSessionNotFound
	}
	if l, held := s.leases[id]; held && l.owner != owner && micro(l.until).After(micro(now)) {
		return nil, fmt.Errorf("session %s: %w", id, ports.ErrRefreshLeaseHeld)
	}
	s.leases[id] = lease{owner: owner, until: until}
	return domain.RehydrateSession(cloneRecord(r)), nil
}

// ReleaseRefreshLease implements ports.SessionStore.
func (s *SessionStore) ReleaseRefreshLease(_ context.Context, id, owner string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l, held := s.leases[id]; held && l.owner == owner {
		delete(s.leases, id)
	}
	return nil
}

// UpdateUnderLease implements ports.SessionStore.
func (s *SessionStore) UpdateUnderLease(_ context.Context, id, owner string, fn func(*domain.Session) error) error {
	if owner == "" {
		return fmt.Errorf("update under lease: empty owner: %w", ports.ErrRefreshLeaseLost)
	}
	return s.update(id, owner, fn)
}

// Delete implements ports.SessionStore.
func (s *SessionStore) Delete(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.deleteErr != nil {
		return s.deleteErr
	}
	if _, ok := s.byID[id]; !ok {
		return domain.ErrSessionNotFound
	}
	s.deleteLocked(id)
	return nil
}

// ListByUser implements ports.SessionStore.
func (s *SessionStore) ListByUser(_ context.Context, userID string) ([]*domain.Session, error) {
	s.mu.Lock()
	var recs []domain.SessionRecord
	for _, r := range s.byID {
		if r.UserID == userID {
			recs = append(recs, cloneRecord(r))
		}
	}
	s.mu.Unlock()
	sort.Slice(recs, func(i, j int) bool {
		if !recs[i].CreatedAt.Equal(recs[j].CreatedAt) {
			return recs[i].CreatedAt.After(recs[j].CreatedAt)
		}
		return recs[i].ID < recs[j].ID
	})
	out := make([]*domain.Session, 0, len(recs))
	for _, r := range recs {
		out = append(out, domain.RehydrateSession(r))
	}
	return out, nil
}

// DeleteByUser implements ports.SessionStore.
func (s *SessionStore) DeleteByUser(_ context.Context, userID, except string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for id, r := range s.byID {
		if r.UserID == userID && (except == "" || id != except) {
			s.deleteLocked(id)
			n++
		}
	}
	return n, nil
}

func (s *SessionStore) deleteLocked(id string) {
	delete(s.byHash, s.byID[id].TokenHash)
	delete(s.byID, id)
	delete(s.leases, id)
}

// records returns copies of all sessions, for SessionMaintenance.
func (s *SessionStore) records() []domain.SessionRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]domain.SessionRecord, 0, len(s.byID))
	for _, r := range s.byID {
		out = append(out, cloneRecord(r))
	}
	return out
}

// cloneRecord copies r so no caller shares the fake's byte slices, and
// normalises its times as a database would.
func cloneRecord(r domain.SessionRecord) domain.SessionRecord {
	r.CreatedAt, r.UpdatedAt, r.LastSeenAt = micro(r.CreatedAt), micro(r.UpdatedAt), micro(r.LastSeenAt)
	r.Expires, r.AbsoluteExpires = micro(r.Expires), micro(r.AbsoluteExpires)
	r.Tokens.AccessTokenExpiresAt = micro(r.Tokens.AccessTokenExpiresAt)
	r.Tokens.RefreshTokenExpiresAt = micro(r.Tokens.RefreshTokenExpiresAt)
	r.Tokens.AccessToken = cloneBytes(r.Tokens.AccessToken)
	r.Tokens.RefreshToken = cloneBytes(r.Tokens.RefreshToken)
	r.Tokens.IDToken = cloneBytes(r.Tokens.IDToken)
	return r
}
