package keycloak

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"sort"
	"strings"

	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
)

// claims are the Keycloak token claims authbff reads.
type claims struct {
	Issuer            string              `json:"iss"`
	Subject           string              `json:"sub"`
	SessionID         string              `json:"sid"`
	Name              string              `json:"name"`
	PreferredUsername string              `json:"preferred_username"`
	Email             string              `json:"email"`
	EmailVerified     bool                `json:"email_verified"`
	Picture           string              `json:"picture"`
	RealmAccess       roleList            `json:"realm_access"`
	ResourceAccess    map[string]roleList `json:"resource_access"`
	Organization      json.RawMessage     `json:"organization"`
}

type roleList struct {
	Roles []string `json:"roles"`
}

// mapIdentity turns Keycloak claims into a ports.Identity. Roles: realm roles
// (`realm_access.roles`) and this client's roles
// (`resource_access.<client id>.roles`). Other clients' roles are ignored so
// a role named "admin" on some other client never grants anything here.
func mapIdentity(clientID string, c claims) ports.Identity {
	id := ports.Identity{
		Issuer: c.Issuer, Subject: c.Subject, SessionID: c.SessionID,
		Name: c.Name, Email: c.Email, EmailVerified: c.EmailVerified, Image: c.Picture,
	}
	if id.Name == "" {
		id.Name = c.PreferredUsername
	}
	for _, r := range c.RealmAccess.Roles {
		id.Roles = append(id.Roles, domain.Role{Name: r, Source: domain.RoleSourceRealm})
	}
	if ra, ok := c.ResourceAccess[clientID]; ok {
		for _, r := range ra.Roles {
			id.Roles = append(id.Roles, domain.Role{Name: r, Source: domain.ClientRoleSource(clientID)})
		}
	}
	id.Organizations = parseOrganizations(c.Organization)
	return id
}

// parseOrganizations reads Keycloak's `organization` claim in both shapes:
// a list of aliases (["acme","globex"]; the default mapper, "Add organization
// id" off) and a map of alias to attributes ({"acme":{"id":"…",
// "tenant_id":["t1"]}}), where the organization mapper emits attribute
// values as arrays. Keycloak's id becomes ExternalID; aliases alone leave it
// empty, for the application to resolve (never one made up here). Unknown
// shapes yield no organizations.
func parseOrganizations(raw json.RawMessage) []domain.Organization {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var aliases []string
	if err := json.Unmarshal(raw, &aliases); err == nil {
		out := make([]domain.Organization, 0, len(aliases))
		for _, a := range aliases {
			if a != "" {
				out = append(out, domain.Organization{Alias: a, Name: a})
			}
		}
		return sortOrgs(out)
	}
	var byAlias map[string]map[string]json.RawMessage
	if err := json.Unmarshal(raw, &byAlias); err != nil {
		return nil
	}
	out := make([]domain.Organization, 0, len(byAlias))
	for alias, attrs := range byAlias {
		if alias == "" {
			continue
		}
		o := domain.Organization{Alias: alias, Name: alias}
		o.ExternalID = firstString(attrs["id"])
		o.TenantID = firstString(attrs["tenant_id"])
		if n := firstString(attrs["name"]); n != "" {
			o.Name = n
		}
		out = append(out, o)
	}
	return sortOrgs(out)
}

// firstString reads a string or the first element of a string array.
func firstString(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil && len(list) > 0 {
		return list[0]
	}
	return ""
}

func sortOrgs(orgs []domain.Organization) []domain.Organization {
	sort.Slice(orgs, func(i, j int) bool { return orgs[i].Alias < orgs[j].Alias })
	return orgs
}

func mergeRoles(a, b []domain.Role) []domain.Role {
	seen := make(map[domain.Role]bool, len(a)+len(b))
	out := make([]domain.Role, 0, len(a)+len(b))
	for _, r := range append(append([]domain.Role{}, a...), b...) {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}

// mergeOrganizations unions by alias; values with ids and tenant ids win.
func mergeOrganizations(a, b []domain.Organization) []domain.Organization {
	byAlias := map[string]domain.Organization{}
	for _, o := range append(append([]domain.Organization{}, a...), b...) {
		cur, ok := byAlias[o.Alias]
		if !ok {
			byAlias[o.Alias] = o
			continue
		}
		if cur.ExternalID == "" {
			cur.ExternalID = o.ExternalID
		}
		if cur.TenantID == "" {
			cur.TenantID = o.TenantID
		}
		if cur.Name == cur.Alias && o.Name != "" {
			cur.Name = o.Name
		}
		byAlias[o.Alias] = cur
	}
	out := make([]domain.Organization, 0, len(byAlias))
	for _, o := range byAlias {
		out = append(out, o)
	}
	return sortOrgs(out)
}

// maxTokenBytes caps what we parse: a token larger than this is refused
// before any decoding (go-jose CVE-2025-27144 was a split on a huge token).
const maxTokenBytes = 64 << 10

// unverifiedClaims decodes a JWT's payload without checking its signature.
// Only for tokens received directly from the token endpoint.
func unverifiedClaims(jwt string) (claims, error) {
	var c claims
	if len(jwt) > maxTokenBytes {
		return c, errors.New("token too large")
	}
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return c, errors.New("access token is not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return c, errors.New("access token payload is not base64url")
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return c, errors.New("access token payload is not JSON")
	}
	return c, nil
}
