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

// VerificationTokenStore is an in-memory ports.VerificationTokenStore.
type VerificationTokenStore struct {
	mu     sync.Mutex
	tokens map[tokenKey]domain.VerificationToken
}

type tokenKey struct {
	identifier string
	hash       domain.TokenHash
}

// NewVerificationTokenStore returns an empty VerificationTokenStore.
func NewVerificationTokenStore() *VerificationTokenStore {
	return &VerificationTokenStore{tokens: map[tokenKey]domain.VerificationToken{}}
}

var _ ports.VerificationTokenStore = (*VerificationTokenStore)(nil)

// Save implements ports.VerificationTokenStore.
func (s *VerificationTokenStore) Save(_ context.Context, v domain.VerificationToken) error {
	v.Expires = micro(v.Expires)
	k := tokenKey{v.Identifier, v.TokenHash}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, taken := s.tokens[k]; taken {
		return fmt.Errorf("save verification token: %w", domain.ErrConflict)
	}
	s.tokens[k] = v
	return nil
}

// Consume implements ports.VerificationTokenStore.
func (s *VerificationTokenStore) Consume(_ context.Context, identifier string, hash domain.TokenHash, now time.Time) (domain.VerificationToken, error) {
	k := tokenKey{identifier, hash}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.tokens[k]
	if !ok || v.Expired(micro(now)) {
		return domain.VerificationToken{}, domain.ErrVerificationTokenNotFound
	}
	delete(s.tokens, k)
	return v, nil
}

// DeleteExpired implements ports.VerificationTokenStore.
func (s *VerificationTokenStore) DeleteExpired(_ context.Context, now time.Time, limit int) (int64, error) {
	now = micro(now)
	s.mu.Lock()
	defer s.mu.Unlock()
	var expired []tokenKey
	for k, v := range s.tokens {
		if v.Expired(now) {
			expired = append(expired, k)
		}
	}
	sort.Slice(expired, func(i, j int) bool {
		if expired[i].identifier != expired[j].identifier {
			return expired[i].identifier < expired[j].identifier
		}
		return expired[i].hash < expired[j].hash
	})
	var n int64
	for _, k := range expired {
		if n >= int64(limit) {
			break
		}
		delete(s.tokens, k)
		n++
	}
	return n, nil
}
