package application

import (
	"context"
	"fmt"
	"time"

	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
)

// ListSessions lists a user's sessions (GET /api/auth/sessions).
type ListSessions struct {
	UserID string
	// CurrentSessionID marks the caller's own session.
	CurrentSessionID string
}

// SessionSummary is what a user may see about one of their sessions: never
// the token, its hash or the OAuth tokens.
type SessionSummary struct {
	ID         string
	CreatedAt  time.Time
	LastSeenAt time.Time
	Expires    time.Time
	IPAddress  string
	UserAgent  string
	Current    bool
}

// ListSessionsHandler runs ListSessions.
type ListSessionsHandler struct {
	sessions ports.SessionStore
	now      Clock
}

// NewListSessionsHandler returns a ListSessionsHandler.
func NewListSessionsHandler(sessions ports.SessionStore, now Clock) *ListSessionsHandler {
	return &ListSessionsHandler{sessions: sessions, now: now}
}

// Handle returns the user's active sessions, newest first.
func (h *ListSessionsHandler) Handle(ctx context.Context, q ListSessions) ([]SessionSummary, error) {
	all, err := h.sessions.ListByUser(ctx, q.UserID)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	now := h.now()
	out := make([]SessionSummary, 0, len(all))
	for _, s := range all {
		if !s.IsActive(now) {
			continue
		}
		out = append(out, summarize(s, q.CurrentSessionID))
	}
	return out, nil
}

func summarize(s *domain.Session, current string) SessionSummary {
	return SessionSummary{ID: s.ID(), CreatedAt: s.CreatedAt(), LastSeenAt: s.LastSeenAt(), Expires: s.Expires(),
		IPAddress: s.IPAddress(), UserAgent: s.UserAgent(), Current: s.ID() == current}
}
