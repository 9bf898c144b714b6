package domain

import "strings"

// Role sources.
const (
	RoleSourceRealm        = "realm"
	RoleSourceOrganization = "organization"
	roleSourceClientPrefix = "client:"
)

// Role is a named permission granted by the identity provider. The same name
// may exist in several sources (realm, a client, an organization), so
// (Name, Source) is the identity of a role.
type Role struct {
	Name   string
	Source string // "realm", "client:<client id>" or "organization"
}

// ClientRoleSource returns the source string of a client role.
func ClientRoleSource(clientID string) string { return roleSourceClientPrefix + clientID }

// Validate reports a role that must not be stored.
func (r Role) Validate() error {
	if r.Name == "" {
		return &ValidationError{Field: "Name", Reason: "required"}
	}
	if r.Source != RoleSourceRealm && r.Source != RoleSourceOrganization &&
		!(strings.HasPrefix(r.Source, roleSourceClientPrefix) && len(r.Source) > len(roleSourceClientPrefix)) {
		return &ValidationError{Field: "Source", Reason: "must be realm, organization or client:<id>"}
	}
	return nil
}

// HasRole reports whether roles contain name from any source.
func HasRole(roles []Role, name string) bool {
	for _, r := range roles {
		if r.Name == name {
			return true
		}
	}
	return false
}
