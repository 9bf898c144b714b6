package keycloak_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/authbff/authbff/adapters/keycloak"
	"github.com/authbff/authbff/ports"
	"github.com/authbff/authbff/test/fakeop"
)

// FuzzLogoutToken is docs/security.md R4's logout-token target: any string
// posted as a logout token is refused as invalid (never a panic, never an
// outage the IdP did not have), unless it is the IdP's own signed token,
// whose claims it then returns unchanged. Seeds: a valid token, the same
// token with each part cut, swapped or re-signed by another key, and an
// unsigned one; the fuzzer mutates from there.
func FuzzLogoutToken(f *testing.F) {
	op := fakeop.New(f)
	p, err := keycloak.New(keycloak.Config{Issuer: op.Issuer(), ClientID: op.ClientID, ClientSecret: "s", Timeout: time.Second},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		f.Fatal(err)
	}
	// Long-lived, so that seeds stay valid for the whole run; the time
	// checks have their own table (TestClockSkewTolerance).
	claims := logoutClaims(op)
	claims["exp"] = time.Now().Add(time.Hour).Unix()
	valid := op.Sign(claims, "logout+jwt")
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	parts := strings.Split(valid, ".")
	f.Add(valid)
	f.Add(parts[0] + "." + parts[1] + ".")
	f.Add(parts[1] + "." + parts[0] + "." + parts[2])
	f.Add(fakeop.SignWith(other, op.KeyID, claims, "logout+jwt"))
	f.Add(op.Sign(claims, "JWT"))
	f.Add("eyJhbGciOiJub25lIn0." + parts[1] + ".")
	f.Add("")
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := p.VerifyLogoutToken(ctx, raw)
		if err != nil {
			if !errors.Is(err, ports.ErrInvalidLogoutToken) {
				t.Fatalf("refused as something other than invalid: %v", err)
			}
			return
		}
		if got.Issuer != op.Issuer() || got.Subject != "sub-bob" || got.SessionID != "sid-1" || got.JTI != "jti-1" {
			t.Fatalf("accepted %q with claims %+v", raw, got)
		}
	})
}
