package application

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
)

// RevokeSession ends one of the caller's own sessions
// (DELETE /api/auth/sessions/:id).
type RevokeSession struct {
	UserID    string
	SessionID string
}

// RevokeOtherSessions ends every session of the caller but the current one
// (DELETE /api/auth/sessions).
type RevokeOtherSessions struct {
	UserID           string
	CurrentSessionID string
}

// RevokeSessionHandler runs RevokeSession and RevokeOtherSessions.
type RevokeSessionHandler struct {
	sessions ports.SessionStore
	obs      ports.Observer
	log      *slog.Logger
}

// NewRevokeSessionHandler returns a RevokeSessionHandler.
func NewRevokeSessionHandler(sessions ports.SessionStore, obs ports.Observer, log *slog.Logger) *RevokeSessionHandler {
	return &RevokeSessionHandler{sessions: sessions, obs: obs, log: log}
}

// Handle deletes the session if it belongs to the user. Another user's
// session id is answered exactly like an unknown one
// (ErrNoSuchSession), so ids cannot be probed.
func (h *RevokeSessionHandler) Handle(ctx context.Context, cmd RevokeSession) error {
	err := h.sessions.Update(ctx, cmd.SessionID, func(s *domain.Session) error {
		if s.UserID() != cmd.UserID {
			return domain.ErrSessionNotFound
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, domain.ErrSessionNotFound) {
			return ErrNoSuchSession
		}
		return fmt.Errorf("revoke session: %w", err)
	}
	if err := h.sessions.Delete(ctx, cmd.SessionID); err != nil {
		if errors.Is(err, domain.ErrSessionNotFound) {
			return ErrNoSuchSession
		}
		return err
	}
	h.obs.SessionsRevoked("user", 1)
	h.log.InfoContext(ctx, "session revoked", "user_id", cmd.UserID, "session_id", cmd.SessionID, "by", "user")
	return nil
}

// HandleOthers deletes all the user's sessions but the current one and
// returns how many.
func (h *RevokeSessionHandler) HandleOthers(ctx context.Context, cmd RevokeOtherSessions) (int64, error) {
	if cmd.CurrentSessionID == "" {
		return 0, &domain.ValidationError{Field: "CurrentSessionID", Reason: "required"}
	}
	n, err := h.sessions.DeleteByUser(ctx, cmd.UserID, cmd.CurrentSessionID)
	if err != nil {
		return 0, fmt.Errorf("revoke other sessions: %w", err)
	}
	h.obs.SessionsRevoked("user", n)
	h.log.InfoContext(ctx, "other sessions revoked", "user_id", cmd.UserID, "count", n)
	return n, nil
}
