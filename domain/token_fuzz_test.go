package domain_test

import (
	"regexp"
	"testing"

	"github.com/authbff/authbff/domain"
)

// tokenShape is the rule ParseSessionToken implements: 32 to 128 bytes of
// the base64url alphabet (authbff's tokens, and Auth.js's UUIDs).
var tokenShape = regexp.MustCompile(`^[A-Za-z0-9_-]{32,128}$`)

// FuzzParseSessionToken: any cookie value is accepted exactly when it has
// the token's shape (tokenShape), and an accepted one hashes to 64 hex
// characters; never a panic.
func FuzzParseSessionToken(f *testing.F) {
	f.Add(string(domain.NewSessionToken()))
	f.Add("3f0b3c6e-8a8c-4c7e-9d2a-0e6f1b2c3d4e")
	f.Add("%7C")
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := domain.ParseSessionToken(s)
		if want := tokenShape.MatchString(s); (err == nil) != want {
			t.Fatalf("ParseSessionToken(%q) error %v, want accepted %t", s, err, want)
		}
		if err != nil {
			return
		}
		if h := tok.Hash(); len(h) != 64 {
			t.Fatalf("hash of %q has length %d", s, len(h))
		}
	})
}
