package fake

import (
	"context"

	"github.com/authbff/authbff/ports"
)

var _ ports.SessionRevoker = (*SessionStore)(nil)

// DeleteByProviderSession implements ports.SessionRevoker.
func (s *SessionStore) DeleteByProviderSession(_ context.Context, provider, sid string) (int64, error) {
	if sid == "" {
		return 0, nil
	}
	return s.deleteWhere(func(providerOf, sidOf, _ string) bool { return providerOf == provider && sidOf == sid }), nil
}

// DeleteByProviderSubject implements ports.SessionRevoker.
func (s *SessionStore) DeleteByProviderSubject(_ context.Context, provider, subject string) (int64, error) {
	if subject == "" {
		return 0, nil
	}
	userID, ok := s.users.accountUser(provider, subject)
	if !ok {
		return 0, nil
	}
	return s.deleteWhere(func(_, _, user string) bool { return user == userID }), nil
}

func (s *SessionStore) deleteWhere(match func(provider, sid, userID string) bool) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for id, r := range s.byID {
		if match(r.Provider, r.ProviderSessionID, r.UserID) {
			delete(s.byHash, r.TokenHash)
			delete(s.byID, id)
			n++
		}
	}
	return n
}

func (s *UserStore) accountUser(provider, subject string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.accounts[accountKey{provider, subject}]
	return id, ok
}
