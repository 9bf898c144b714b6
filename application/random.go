package application

import (
	"crypto/rand"
	"encoding/base64"
)

// randomToken returns n random bytes as base64url without padding. With
// n = 32 it is a valid PKCE verifier (43 characters, RFC 7636 §4.1).
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
