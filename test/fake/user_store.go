package fake

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
)

// UserStore is an in-memory ports.UserStore. Organizations live here too
// (they are shared between users and matched by alias), so SessionStore and
// SessionMaintenance read them from it.
type UserStore struct {
	mu       sync.Mutex
	users    map[string]domain.User          // by id
	accounts map[accountKey]string           // (provider, subject) -> user id
	roles    map[string]map[domain.Role]bool // user id -> roles
	orgs     map[string]domain.Organization  // by alias
	members  map[string]map[string]bool      // user id -> organization ids
}

type accountKey struct{ provider, subject string }

// NewUserStore returns an empty UserStore.
func NewUserStore() *UserStore {
	return &UserStore{
		users:    map[string]domain.User{},
		accounts: map[accountKey]string{},
		roles:    map[string]map[domain.Role]bool{},
		orgs:     map[string]domain.Organization{},
		members:  map[string]map[string]bool{},
	}
}

var _ ports.UserStore = (*UserStore)(nil)

// SyncIdentity implements ports.UserStore. The identity rules are the
// domain's; this only persists their result, and checks the uniqueness
// constraints the database enforces before the first change, so a failed
// sync changes nothing, like the store's transaction.
func (s *UserStore) SyncIdentity(_ context.Context, in ports.IdentitySync) (domain.User, error) {
	id := in.Identity()
	if err := id.Validate(); err != nil {
		return domain.User{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := accountKey{in.Provider, in.Subject}
	var stored *domain.User
	if uid, known := s.accounts[key]; known {
		u := s.users[uid]
		stored = &u
	}
	u, err := id.MergeInto(stored, micro(in.Now))
	if err != nil {
		return domain.User{}, err
	}
	orgs := id.DistinctOrganizations()
	if err := s.checkUniqueLocked(u, orgs); err != nil {
		return domain.User{}, err
	}
	s.users[u.ID] = u
	s.accounts[key] = u.ID
	roles := map[domain.Role]bool{}
	for _, r := range id.DistinctRoles() {
		roles[r] = true
	}
	s.roles[u.ID] = roles
	members := map[string]bool{}
	for _, o := range orgs {
		stored, ok := s.orgs[o.Alias]
		if !ok {
			stored = domain.Organization{ID: o.ID, Alias: o.Alias}
			if stored.ID == "" {
				stored.ID = domain.NewID()
			}
		}
		stored = stored.Merge(o)
		s.orgs[o.Alias] = stored
		members[stored.ID] = true
	}
	s.members[u.ID] = members
	return cloneUser(u), nil
}

// checkUniqueLocked is the database's unique constraints: one user per email,
// one organization per id.
func (s *UserStore) checkUniqueLocked(u domain.User, orgs []domain.Organization) error {
	if u.Email != "" {
		for _, other := range s.users {
			if other.ID != u.ID && other.Email == u.Email {
				return fmt.Errorf("sync identity: %w: email in use", domain.ErrConflict)
			}
		}
	}
	for _, o := range orgs {
		if o.ID == "" {
			continue
		}
		for alias, stored := range s.orgs {
			if stored.ID == o.ID && alias != o.Alias {
				return fmt.Errorf("sync identity: %w: organization id in use", domain.ErrConflict)
			}
		}
	}
	return nil
}

// User implements ports.UserStore.
func (s *UserStore) User(_ context.Context, id string) (domain.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	if !ok {
		return domain.User{}, domain.ErrUserNotFound
	}
	return cloneUser(u), nil
}

// UserByEmail implements ports.UserStore.
func (s *UserStore) UserByEmail(_ context.Context, email string) (domain.User, error) {
	email = domain.NormalizeEmail(email)
	s.mu.Lock()
	defer s.mu.Unlock()
	if email != "" {
		for _, u := range s.users {
			if u.Email == email {
				return cloneUser(u), nil
			}
		}
	}
	return domain.User{}, domain.ErrUserNotFound
}

// Roles implements ports.UserStore.
func (s *UserStore) Roles(_ context.Context, userID string) ([]domain.Role, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rolesLocked(userID), nil
}

// Organizations implements ports.UserStore.
func (s *UserStore) Organizations(_ context.Context, userID string) ([]domain.Organization, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.organizationsLocked(userID), nil
}

// CountUsers implements ports.UserStore.
func (s *UserStore) CountUsers(context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int64(len(s.users)), nil
}

func (s *UserStore) rolesLocked(userID string) []domain.Role {
	out := make([]domain.Role, 0, len(s.roles[userID]))
	for r := range s.roles[userID] {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Source != out[j].Source {
			return out[i].Source < out[j].Source
		}
		return out[i].Name < out[j].Name
	})
	return out
}

func (s *UserStore) organizationsLocked(userID string) []domain.Organization {
	out := make([]domain.Organization, 0, len(s.members[userID]))
	for _, o := range s.orgs {
		if s.members[userID][o.ID] {
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Alias < out[j].Alias })
	return out
}

// view returns a user with roles and organizations, for SessionStore.Lookup.
func (s *UserStore) view(userID string) (domain.User, []domain.Role, []domain.Organization, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[userID]
	if !ok {
		return domain.User{}, nil, nil, false
	}
	return cloneUser(u), s.rolesLocked(userID), s.organizationsLocked(userID), true
}

func (s *UserStore) exists(userID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.users[userID]
	return ok
}

// organizationAliases maps organization ids to aliases, for Stats.
func (s *UserStore) organizationAliases() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string, len(s.orgs))
	for alias, o := range s.orgs {
		out[o.ID] = alias
	}
	return out
}

func cloneUser(u domain.User) domain.User {
	if u.EmailVerified != nil {
		v := *u.EmailVerified
		u.EmailVerified = &v
	}
	return u
}
