package fake

import (
	"context"
	"sort"
	"time"

	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
)

// SessionMaintenance is an in-memory ports.SessionMaintenance over a
// SessionStore.
type SessionMaintenance struct{ sessions *SessionStore }

// NewSessionMaintenance returns the maintenance view of sessions.
func NewSessionMaintenance(sessions *SessionStore) *SessionMaintenance {
	return &SessionMaintenance{sessions: sessions}
}

var _ ports.SessionMaintenance = (*SessionMaintenance)(nil)

// DeleteExpired implements ports.SessionMaintenance.
func (m *SessionMaintenance) DeleteExpired(_ context.Context, now time.Time, limit int) (int64, error) {
	now = micro(now)
	s := m.sessions
	s.mu.Lock()
	defer s.mu.Unlock()
	var expired []string
	for id, r := range s.byID {
		if !r.Expires.After(now) || !r.AbsoluteExpires.After(now) {
			expired = append(expired, id)
		}
	}
	sort.Strings(expired)
	var n int64
	for _, id := range expired {
		if n >= int64(limit) {
			break
		}
		s.deleteLocked(id)
		n++
	}
	return n, nil
}

// Stats implements ports.SessionMaintenance.
func (m *SessionMaintenance) Stats(_ context.Context, now time.Time) (domain.SessionStats, error) {
	now = micro(now)
	aliases := m.sessions.users.organizationAliases()
	st := domain.SessionStats{ActivePerOrganization: map[string]int64{}}
	var hours float64
	for _, r := range m.sessions.records() {
		st.Total++
		hours += r.Expires.Sub(r.CreatedAt).Hours()
		if r.CreatedAt.After(now.Add(-24 * time.Hour)) {
			st.CreatedLast24h++
		}
		if !(r.Expires.After(now) && r.AbsoluteExpires.After(now)) {
			continue
		}
		st.Active++
		if alias, ok := aliases[r.ActiveOrganizationID]; ok && r.ActiveOrganizationID != "" {
			st.ActivePerOrganization[alias]++
		}
	}
	st.Expired = st.Total - st.Active
	if st.Total > 0 {
		st.AverageDurationHours = hours / float64(st.Total)
	}
	return st, nil
}
