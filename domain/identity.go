package domain

import (
	"cmp"
	"slices"
	"time"
)

// Identity is what the identity provider asserts about a user at sign-in or
// refresh. Roles and Organizations are the complete current sets: whatever
// the user had before and is not listed here is removed.
type Identity struct {
	Provider      string
	Subject       string // the IdP's stable id for the user (`sub`)
	Name          string
	Email         string
	EmailVerified bool
	Image         string
	Roles         []Role
	Organizations []Organization
}

// Validate reports an identity that must not be stored: no provider or
// subject to link it by, or a role or organization that is invalid. It runs
// before anything is written, so a refused sync changes nothing.
func (id Identity) Validate() error {
	if id.Provider == "" || id.Subject == "" {
		return &ValidationError{Field: "Subject", Reason: "provider and subject are required"}
	}
	for _, r := range id.Roles {
		if err := r.Validate(); err != nil {
			return err
		}
	}
	for _, o := range id.Organizations {
		if err := o.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// MergeInto returns the user to store for this identity: stored is the user
// already linked to (Provider, Subject), or nil on a first sign-in (a new
// user is created). The profile follows the IdP on every sync; the email is
// normalised, and the time it was first verified is kept for as long as the
// IdP keeps saying it is verified (an unverified email clears it). It
// returns a *ValidationError when the merged user must not be stored.
func (id Identity) MergeInto(stored *User, now time.Time) (User, error) {
	var u User
	if stored != nil {
		u = *stored
	} else {
		u = User{ID: NewID(), CreatedAt: now}
	}
	u.Name, u.Email, u.Image, u.UpdatedAt = id.Name, NormalizeEmail(id.Email), id.Image, now
	switch {
	case !id.EmailVerified:
		u.EmailVerified = nil
	case u.EmailVerified == nil:
		verified := now
		u.EmailVerified = &verified
	}
	if err := u.Validate(); err != nil {
		return User{}, err
	}
	return u, nil
}

// DistinctRoles returns the identity's roles without duplicates, sorted by
// source then name in byte order: a store that locks rows in this order
// cannot deadlock with a concurrent sync of the same roles.
func (id Identity) DistinctRoles() []Role {
	out := make([]Role, 0, len(id.Roles))
	seen := map[Role]bool{}
	for _, r := range id.Roles {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	SortRoles(out)
	return out
}

// DistinctOrganizations returns the identity's organizations, one per alias
// (the first one listed wins), sorted by alias, for the same reason as
// DistinctRoles.
func (id Identity) DistinctOrganizations() []Organization {
	out := make([]Organization, 0, len(id.Organizations))
	seen := map[string]bool{}
	for _, o := range id.Organizations {
		if !seen[o.Alias] {
			seen[o.Alias] = true
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(a, b Organization) int { return cmp.Compare(a.Alias, b.Alias) })
	return out
}

// SortRoles orders roles by source, then name, in byte order whatever a
// database's collation.
func SortRoles(roles []Role) {
	slices.SortFunc(roles, func(a, b Role) int {
		if a.Source != b.Source {
			return cmp.Compare(a.Source, b.Source)
		}
		return cmp.Compare(a.Name, b.Name)
	})
}
