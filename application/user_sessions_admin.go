package application

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
)

// UserSessions names a user by id or email for the admin operations, and who
// asks (refused unless an admin or the operator).
type UserSessions struct {
	Caller Caller
	User   string
}

// UserSessionsResult is the user and their active sessions.
type UserSessionsResult struct {
	User     domain.User
	Sessions []SessionSummary
}

// UserSessionsHandler lists and revokes the sessions of any user (admin
// routes and `authbff sessions revoke --user`).
type UserSessionsHandler struct {
	users    ports.UserStore
	sessions ports.SessionStore
	obs      ports.Observer
	now      Clock
	log      *slog.Logger
}

// NewUserSessionsHandler returns a UserSessionsHandler.
func NewUserSessionsHandler(users ports.UserStore, sessions ports.SessionStore, obs ports.Observer, now Clock, log *slog.Logger) *UserSessionsHandler {
	return &UserSessionsHandler{users: users, sessions: sessions, obs: obs, now: now, log: log}
}

// List returns the user's active sessions.
func (h *UserSessionsHandler) List(ctx context.Context, q UserSessions) (UserSessionsResult, error) {
	if err := q.Caller.RequireAdmin(); err != nil {
		return UserSessionsResult{}, err
	}
	u, err := h.find(ctx, q.User)
	if err != nil {
		return UserSessionsResult{}, err
	}
	all, err := h.sessions.ListByUser(ctx, u.ID)
	if err != nil {
		return UserSessionsResult{}, fmt.Errorf("list user sessions: %w", err)
	}
	res := UserSessionsResult{User: u, Sessions: []SessionSummary{}}
	current := q.Caller.sessionID()
	now := h.now()
	for _, s := range all {
		if s.IsActive(now) {
			res.Sessions = append(res.Sessions, summarize(s, current))
		}
	}
	return res, nil
}

// Revoke ends every session of the user and returns how many.
func (h *UserSessionsHandler) Revoke(ctx context.Context, q UserSessions) (domain.User, int64, error) {
	if err := q.Caller.RequireAdmin(); err != nil {
		return domain.User{}, 0, err
	}
	u, err := h.find(ctx, q.User)
	if err != nil {
		return domain.User{}, 0, err
	}
	n, err := h.sessions.DeleteByUser(ctx, u.ID, "")
	if err != nil {
		return domain.User{}, 0, fmt.Errorf("revoke user sessions: %w", err)
	}
	by := q.Caller.auditName()
	h.obs.SessionsRevoked("admin", n)
	h.log.InfoContext(ctx, "user sessions revoked by admin", "user_id", u.ID, "count", n, "by", by)
	return u, n, nil
}

// find resolves an id or an email.
func (h *UserSessionsHandler) find(ctx context.Context, user string) (domain.User, error) {
	user = strings.TrimSpace(user)
	if user == "" {
		return domain.User{}, &domain.ValidationError{Field: "user", Reason: "an id or email is required"}
	}
	if strings.Contains(user, "@") {
		return h.users.UserByEmail(ctx, user)
	}
	u, err := h.users.User(ctx, user)
	if errors.Is(err, domain.ErrUserNotFound) {
		return domain.User{}, err
	}
	return u, err
}
