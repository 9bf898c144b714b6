// Package tokencipher seals the OAuth tokens authbff stores: AES-256-GCM with keys
// derived from AUTH_SECRET by HKDF-SHA256.
//
// Import rule: ports, the standard library, fx in module.go only.
package tokencipher
