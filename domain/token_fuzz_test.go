package domain_test

import (
	"testing"

	"github.com/authbff/authbff/domain"
)

// FuzzParseSessionToken: any cookie value is either refused or hashes to 64
// hex characters; never a panic.
func FuzzParseSessionToken(f *testing.F) {
	f.Add(string(domain.NewSessionToken()))
	f.Add("3f0b3c6e-8a8c-4c7e-9d2a-0e6f1b2c3d4e")
	f.Add("%7C")
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := domain.ParseSessionToken(s)
		if err != nil {
			return
		}
		if h := tok.Hash(); len(h) != 64 {
			t.Fatalf("hash of %q has length %d", s, len(h))
		}
	})
}
