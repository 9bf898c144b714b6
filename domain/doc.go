// Package domain holds authbff's entities and the rules that govern them.
//
// The five entities are:
//
//   - User: a person known to authbff, created on first sign-in and kept in
//     step with the identity provider's claims.
//   - Account: the link between a User and an identity at a provider, keyed by
//     (provider, provider account id), which for OIDC is the `sub` claim.
//   - Session: a signed-in browser. The cookie carries a random token; only its
//     SHA-256 hash is stored. The OAuth tokens of the login live on the session,
//     sealed by a TokenCipher, because every sign-in is its own IdP session.
//   - Organization: a tenant the user belongs to; the active one travels to the
//     backend API as X-Organization-ID and X-Tenant-ID.
//   - Role: a named permission from the IdP (realm, client or organization).
//
// SessionPolicy decides expiry and sliding renewal as pure functions of time.
//
// Import rule: the standard library only. No struct tags, no third-party code.
// Time and randomness come in as arguments (or from crypto/rand for tokens), so
// every rule here is testable without a clock.
package domain
