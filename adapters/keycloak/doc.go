// Package keycloak implements ports.IdentityProvider for Keycloak (and any
// OIDC provider that issues Keycloak-shaped tokens, such as the embedded
// development provider) with go-oidc v3 and golang.org/x/oauth2: discovery,
// authorization code with PKCE S256, state and nonce, ID token verification,
// refresh, RP-initiated logout, and the mapping of Keycloak's role and
// organization claims to domain values.
//
// Import rule: domain, ports, go-oidc, x/oauth2, the standard library, fx in
// module.go only. Never application, gin, bun or another adapter.
package keycloak
