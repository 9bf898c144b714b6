package devidp

import (
	"slices"
	"strings"
	"time"
)

// Organization scope values, as Keycloak 26 understands them: "organization"
// selects the user's organizations, "organization:*" all of them and
// "organization:<alias>" one of them.
const (
	scopeOrganization       = "organization"
	scopeOrganizationPrefix = "organization:"
	scopeOrganizationAll    = "organization:*"
)

// acrLoginForm is the acr Keycloak gives a login with a password form.
const acrLoginForm = "1"

// session is one sign-in: Keycloak's user session, identified by `sid`.
type session struct {
	id       string
	userID   string
	clientID string
	authTime time.Time
	// scopes are the scopes the client asked for (after validation), which
	// select optional claims such as `organization`.
	scopes []string
	// expires is when the session is forgotten: shortly after login until
	// the code is exchanged, then with its latest refresh token.
	expires time.Time
}

// identityClaims returns the Keycloak-shaped claims about the user that go
// into the access token, the ID token and the userinfo response alike:
// the profile and email claims, realm and client roles (Keycloak's role
// mappers with "add to ID token" on) and, when an organization scope was
// requested, the organization claim with ids and attributes.
func identityClaims(u DemoUser, clientID string, scopes []string) map[string]any {
	claims := map[string]any{
		"preferred_username": u.Username,
		"name":               u.Name,
		"given_name":         u.GivenName,
		"family_name":        u.FamilyName,
		"email":              u.Email,
		"email_verified":     u.EmailVerified,
		"realm_access":       map[string]any{"roles": slices.Clone(u.RealmRoles)},
	}
	if len(u.ClientRoles) > 0 {
		claims["resource_access"] = map[string]any{
			clientID: map[string]any{"roles": slices.Clone(u.ClientRoles)},
		}
	}
	if orgs := organizationClaim(u, scopes); orgs != nil {
		claims["organization"] = orgs
	}
	return claims
}

// accessTokenClaims returns the private claims of an access token for s:
// the identity claims plus the ones Keycloak adds to every access token.
// The library sets iss, sub, aud, exp, iat, nbf, jti and client_id.
func accessTokenClaims(u DemoUser, s session) map[string]any {
	claims := identityClaims(u, s.clientID, s.scopes)
	claims["typ"] = "Bearer"
	claims["azp"] = s.clientID
	claims["sid"] = s.id
	claims["acr"] = acrLoginForm
	claims["auth_time"] = s.authTime.Unix()
	claims["scope"] = strings.Join(s.scopes, " ")
	return claims
}

// idTokenClaims returns the extra claims of an ID token for s. The library
// sets iss, sub, aud, azp, exp, iat, auth_time, acr, nonce and at_hash.
func idTokenClaims(u DemoUser, s session) map[string]any {
	claims := identityClaims(u, s.clientID, s.scopes)
	claims["typ"] = "ID"
	claims["sid"] = s.id
	return claims
}

// organizationClaim returns Keycloak's organization claim in the shape its
// organization mapper gives with "add organization id" and "add organization
// attributes" on: {"<alias>": {"id": "<uuid>", "<attribute>": ["<value>"]}}.
// Like Keycloak, it lists only the organizations the requested scopes
// select, and returns nil when no organization scope was requested or none
// of the user's organizations is selected. Unlike Keycloak, the plain
// "organization" scope selects all of a user's organizations instead of
// asking a member of several to pick one.
func organizationClaim(u DemoUser, scopes []string) map[string]any {
	selected := map[string]bool{}
	for _, scope := range scopes {
		switch {
		case scope == scopeOrganization || scope == scopeOrganizationAll:
			for _, alias := range u.Organizations {
				selected[alias] = true
			}
		case strings.HasPrefix(scope, scopeOrganizationPrefix):
			alias := strings.TrimPrefix(scope, scopeOrganizationPrefix)
			if slices.Contains(u.Organizations, alias) {
				selected[alias] = true
			}
		}
	}
	if len(selected) == 0 {
		return nil
	}
	claim := make(map[string]any, len(selected))
	for alias := range selected {
		org, ok := organizationByAlias(alias)
		if !ok {
			continue
		}
		entry := map[string]any{"id": org.ID}
		for name, values := range org.Attributes {
			entry[name] = slices.Clone(values)
		}
		claim[alias] = entry
	}
	return claim
}

// isOrganizationScope reports whether scope is one of Keycloak's
// organization scope values.
func isOrganizationScope(scope string) bool {
	return scope == scopeOrganization || strings.HasPrefix(scope, scopeOrganizationPrefix)
}
