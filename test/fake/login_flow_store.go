package fake

import (
	"context"
	"crypto/subtle"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
)

// LoginFlowStore is an in-memory ports.LoginFlowStore.
type LoginFlowStore struct {
	mu    sync.Mutex
	flows map[string]domain.LoginFlow // by state
}

// NewLoginFlowStore returns an empty LoginFlowStore.
func NewLoginFlowStore() *LoginFlowStore {
	return &LoginFlowStore{flows: map[string]domain.LoginFlow{}}
}

var _ ports.LoginFlowStore = (*LoginFlowStore)(nil)

// Save implements ports.LoginFlowStore.
func (s *LoginFlowStore) Save(_ context.Context, f domain.LoginFlow, maxPending int64) error {
	f.CreatedAt, f.Expires = micro(f.CreatedAt), micro(f.Expires)
	s.mu.Lock()
	defer s.mu.Unlock()
	if maxPending > 0 && s.pending(f.CreatedAt) >= maxPending {
		return ports.ErrTooManyPendingLoginFlows
	}
	if _, taken := s.flows[f.State]; taken {
		return fmt.Errorf("save login flow: %w", domain.ErrConflict)
	}
	s.flows[f.State] = f
	return nil
}

// Consume implements ports.LoginFlowStore.
func (s *LoginFlowStore) Consume(_ context.Context, state string, binding domain.TokenHash, now time.Time) (domain.LoginFlow, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.flows[state]
	if !ok || subtle.ConstantTimeCompare([]byte(f.BrowserBinding), []byte(binding)) != 1 {
		return domain.LoginFlow{}, domain.ErrLoginFlowNotFound
	}
	delete(s.flows, state)
	if f.Expired(micro(now)) {
		return domain.LoginFlow{}, domain.ErrLoginFlowExpired
	}
	return f, nil
}

// DeleteExpired implements ports.LoginFlowStore.
func (s *LoginFlowStore) DeleteExpired(_ context.Context, now time.Time, limit int) (int64, error) {
	now = micro(now)
	s.mu.Lock()
	defer s.mu.Unlock()
	var expired []string
	for state, f := range s.flows {
		if f.Expired(now) {
			expired = append(expired, state)
		}
	}
	sort.Strings(expired)
	var n int64
	for _, state := range expired {
		if n >= int64(limit) {
			break
		}
		delete(s.flows, state)
		n++
	}
	return n, nil
}

// CountPending implements ports.LoginFlowStore.
func (s *LoginFlowStore) CountPending(_ context.Context, now time.Time) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pending(now), nil
}

// pending counts the flows not expired at now; the caller holds mu.
func (s *LoginFlowStore) pending(now time.Time) int64 {
	var n int64
	for _, f := range s.flows {
		if !f.Expired(now) {
			n++
		}
	}
	return n
}
