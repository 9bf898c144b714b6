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

// Handle returns the statistics as of now, to an admin or the operator only.
func (h *SessionStatsHandler) Handle(ctx context.Context, caller Caller) (domain.SessionStats, error) {
	if err := caller.RequireAdmin(); err != nil {
		return domain.SessionStats{}, err
	}
	st, err := h.sessions.Stats(ctx, h.now())
	if err != nil {
		return domain.SessionStats{}, fmt.Errorf("session stats: %w", err)
	}
	return st, nil
}

// ActiveSessions returns the number of active sessions now, for the metrics
// gauge: an operator's reading, as the metrics endpoint has its own guard.
func (h *SessionStatsHandler) ActiveSessions(ctx context.Context) (int64, error) {
	st, err := h.Handle(ctx, OperatorCaller())
	return st.Active, err
}
