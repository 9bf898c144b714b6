package ports

import (
	"context"
	"time"

	"github.com/authbff/authbff/domain"
)

// IdentitySync is what the identity provider told us about a user at sign-in
// or refresh. Roles and Organizations are the complete current sets: anything
// the user had before and is not listed here is removed.
type IdentitySync struct {
	Provider      string
	Subject       string // the IdP's stable id for the user (`sub`)
	Name          string
	Email         string
	EmailVerified bool
	Image         string
	Roles         []domain.Role
	Organizations []domain.Organization
	Now           time.Time
}

// UserStore keeps users, their accounts at identity providers, their roles and
// their organization memberships.
type UserStore interface {
	// SyncIdentity creates or updates, in one transaction, the user linked to
	// (Provider, Subject), the account link, and replaces the user's roles and
	// memberships with the given sets. Organizations are matched by alias and
	// created when new, under an ID of the store's (or o.ID when set); a
	// non-empty ExternalID replaces the stored one, an empty one keeps it. It returns the stored user. It returns domain.ErrConflict
	// if the email belongs to another user, and a *domain.ValidationError for
	// invalid input.
	SyncIdentity(ctx context.Context, in IdentitySync) (domain.User, error)
	// User returns the user with this id, or domain.ErrUserNotFound.
	User(ctx context.Context, id string) (domain.User, error)
	// UserByEmail returns the user with this email (case-insensitive), or
	// domain.ErrUserNotFound.
	UserByEmail(ctx context.Context, email string) (domain.User, error)
	// Roles returns the user's roles, sorted by source then name. An unknown
	// user has none.
	Roles(ctx context.Context, userID string) ([]domain.Role, error)
	// Organizations returns the organizations the user belongs to, sorted by
	// alias. An unknown user has none.
	Organizations(ctx context.Context, userID string) ([]domain.Organization, error)
	// CountUsers returns how many users are stored.
	CountUsers(ctx context.Context) (int64, error)
}

// Identity returns the IdP's assertion without the time of the sync, for the
// domain's identity rules.
func (in IdentitySync) Identity() domain.Identity {
	return domain.Identity{
		Provider: in.Provider, Subject: in.Subject, Name: in.Name, Email: in.Email,
		EmailVerified: in.EmailVerified, Image: in.Image, Roles: in.Roles, Organizations: in.Organizations,
	}
}
