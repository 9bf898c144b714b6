package application

import (
	"context"
	"fmt"

	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
)

// SessionStatsHandler answers the session statistics query (GET
// /api/auth/cleanup and `authbff sessions stats`).
type SessionStatsHandler struct {
	sessions ports.SessionMaintenance
	now      Clock
}

// NewSessionStatsHandler returns a SessionStatsHandler.
func NewSessionStatsHandler(sessions ports.SessionMaintenance, now Clock) *SessionStatsHandler {
	return &SessionStatsHandler{sessions: sessions, now: now}
}

// Handle returns the statistics as of now.
func (h *SessionStatsHandler) Handle(ctx context.Context) (domain.SessionStats, error) {
	st, err := h.sessions.Stats(ctx, h.now())
	if err != nil {
		return domain.SessionStats{}, fmt.Errorf("session stats: %w", err)
	}
	return st, nil
}

// ActiveSessions returns the number of active sessions now, for the metrics
// gauge.
func (h *SessionStatsHandler) ActiveSessions(ctx context.Context) (int64, error) {
	st, err := h.Handle(ctx)
	return st.Active, err
}
