package application

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
)

// SwitchOrganization makes another of the user's organizations the active
// one (POST /api/auth/organization, POST /api/auth/session with
// {data:{organizationId}}).
type SwitchOrganization struct {
	SessionID string
	UserID    string
	// OrganizationID is the organization's id or alias.
	OrganizationID string
}

// SwitchOrganizationResult carries the rotated session token.
type SwitchOrganizationResult struct {
	SessionToken domain.SessionToken
	Organization domain.Organization
}

// SwitchOrganizationHandler runs SwitchOrganization.
type SwitchOrganizationHandler struct {
	users    ports.UserStore
	sessions ports.SessionStore
	now      Clock
	log      *slog.Logger
}

// NewSwitchOrganizationHandler returns a SwitchOrganizationHandler.
func NewSwitchOrganizationHandler(users ports.UserStore, sessions ports.SessionStore, now Clock, log *slog.Logger) *SwitchOrganizationHandler {
	return &SwitchOrganizationHandler{users: users, sessions: sessions, now: now, log: log}
}

// Handle checks membership, switches, and rotates the session token: the
// tenant context is a privilege, so a token that leaked before the switch
// must not carry the new one. It returns domain.ErrNotMember if the user
// does not belong to the organization.
func (h *SwitchOrganizationHandler) Handle(ctx context.Context, cmd SwitchOrganization) (SwitchOrganizationResult, error) {
	if cmd.OrganizationID == "" {
		return SwitchOrganizationResult{}, &domain.ValidationError{Field: "organizationId", Reason: "required"}
	}
	orgs, err := h.users.Organizations(ctx, cmd.UserID)
	if err != nil {
		return SwitchOrganizationResult{}, fmt.Errorf("switch organization: %w", err)
	}
	var target *domain.Organization
	for i := range orgs {
		if orgs[i].Matches(cmd.OrganizationID) {
			target = &orgs[i]
		}
	}
	if target == nil {
		return SwitchOrganizationResult{}, domain.ErrNotMember
	}
	var token domain.SessionToken
	err = h.sessions.Update(ctx, cmd.SessionID, func(s *domain.Session) error {
		if s.UserID() != cmd.UserID {
			return domain.ErrSessionNotFound
		}
		now := h.now()
		s.SwitchOrganization(target.ID, now)
		token = s.RotateToken(now)
		return nil
	})
	if errors.Is(err, domain.ErrSessionNotFound) {
		return SwitchOrganizationResult{}, err
	}
	if err != nil {
		return SwitchOrganizationResult{}, fmt.Errorf("switch organization: %w", err)
	}
	h.log.InfoContext(ctx, "organization switched", "user_id", cmd.UserID, "session_id", cmd.SessionID,
		"organization_id", target.ID)
	return SwitchOrganizationResult{SessionToken: token, Organization: *target}, nil
}
