package ports

import (
	"context"
	"errors"

	"github.com/authbff/authbff/domain"
)

// ErrDirectoryDenied means the identity provider refused authbff access to
// its organization directory (for Keycloak: the client has no service
// account, or its service account lacks the realm-management role).
var ErrDirectoryDenied = errors.New("the identity provider refused access to its organizations")

// OrganizationDirectory looks organizations up at the identity provider. It
// exists for tokens that name a user's organizations by alias only
// (Keycloak's default organization mapper), so authbff can still send the
// IdP's own organization id and never one of its own making.
type OrganizationDirectory interface {
	// ByAlias returns the IdP's organizations with these aliases, keyed by
	// alias, with ExternalID, Name and TenantID filled (ID is left empty).
	// Aliases the IdP does not know are absent. Implementations cache, so a
	// call is usually free. Errors: ErrDirectoryDenied, or one wrapping
	// domain.ErrUnavailable when the IdP cannot be reached.
	ByAlias(ctx context.Context, aliases []string) (map[string]domain.Organization, error)
}
