package application

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"

	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
)

// OrganizationIDs gives organizations the identity provider named by alias
// only their IdP id, from the IdP's organization directory. Sign-in and
// refresh use it before memberships are stored; session reads never do. A
// lookup that fails never fails the sign-in: the organization is stored
// without an id, and X-Organization-ID is then not sent for it, because an
// id the backend and the IdP do not know is worse than none.
type OrganizationIDs struct {
	dir    ports.OrganizationDirectory
	log    *slog.Logger
	warned atomic.Bool
}

// NewOrganizationIDs returns an OrganizationIDs on dir (nil: no directory).
func NewOrganizationIDs(dir ports.OrganizationDirectory, log *slog.Logger) *OrganizationIDs {
	return &OrganizationIDs{dir: dir, log: log}
}

// MissingIDsWarning is logged once per process when organizations stay
// without an id. It names both fixes an operator can make in Keycloak.
const MissingIDsWarning = `organization ids unknown: the organization claim names organizations by alias only ` +
	`(Keycloak's "Organization Membership" mapper has "Add organization id" off) and the admin API could not ` +
	`resolve them (turn "Add organization id" on, or enable the client's service account and give it the ` +
	`realm-management role manage-realm); X-Organization-ID is not sent for these organizations`

// Complete returns orgs with ExternalID filled where the directory knows the
// alias, and TenantID and Name taken from the directory where the token had
// none. It warns once per process when ids stay unknown.
func (r *OrganizationIDs) Complete(ctx context.Context, orgs []domain.Organization) []domain.Organization {
	if r == nil {
		return orgs
	}
	var missing []string
	for _, o := range orgs {
		if o.ExternalID == "" && o.Alias != "" {
			missing = append(missing, o.Alias)
		}
	}
	if len(missing) == 0 {
		return orgs
	}
	if r.dir == nil {
		r.warnOnce(ctx, missing, errors.New("no organization directory"))
		return orgs
	}
	found, err := r.dir.ByAlias(ctx, missing)
	if err != nil {
		r.warnOnce(ctx, missing, err)
		return orgs
	}
	out := make([]domain.Organization, len(orgs))
	var unknown []string
	for i, o := range orgs {
		out[i] = o
		if o.ExternalID != "" {
			continue
		}
		d, ok := found[o.Alias]
		if !ok || d.ExternalID == "" {
			unknown = append(unknown, o.Alias)
			continue
		}
		out[i].ExternalID = d.ExternalID
		if out[i].TenantID == "" {
			out[i].TenantID = d.TenantID
		}
		if (out[i].Name == "" || out[i].Name == out[i].Alias) && d.Name != "" {
			out[i].Name = d.Name
		}
	}
	if len(unknown) > 0 {
		r.log.WarnContext(ctx, "organizations in the token are unknown to the identity provider's directory",
			"aliases", unknown)
	}
	return out
}

func (r *OrganizationIDs) warnOnce(ctx context.Context, aliases []string, err error) {
	if r.warned.CompareAndSwap(false, true) {
		r.log.WarnContext(ctx, MissingIDsWarning, "aliases", aliases, "reason", err.Error())
		return
	}
	r.log.DebugContext(ctx, "organization ids unknown", "aliases", aliases, "reason", err.Error())
}
