package keycloak_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/adapters/keycloak"
	"github.com/authbff/authbff/ports"
	"github.com/authbff/authbff/test/fakeop"
)

// TestClockSkewTolerance pins keycloak.ClockSkew at its edges, for ID tokens
// (through a code exchange) and logout tokens alike: a time claim exactly
// ClockSkew off authbff's clock passes, one second more is refused. The
// provider's clock is frozen, so the edges are exact.
func TestClockSkewTolerance(t *testing.T) {
	op := fakeop.New(t)
	now := time.Unix(time.Now().Unix(), 0)
	p, err := keycloak.New(keycloak.Config{Issuer: op.Issuer(), ClientID: op.ClientID, ClientSecret: "s", Timeout: time.Second,
		Now: func() time.Time { return now }}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	ctx := context.Background()
	skew, second := keycloak.ClockSkew, time.Second
	at := func(d time.Duration) int64 { return now.Add(d).Unix() }

	idCases := []struct {
		name   string
		claims map[string]any
		ok     bool
	}{
		{"iat ClockSkew ago", map[string]any{"iat": at(-skew), "exp": at(5 * time.Minute)}, true},
		{"iat ClockSkew ahead", map[string]any{"iat": at(skew), "exp": at(5 * time.Minute)}, true},
		{"iat ClockSkew+1s ago", map[string]any{"iat": at(-skew - second), "exp": at(5 * time.Minute)}, false},
		{"iat ClockSkew+1s ahead", map[string]any{"iat": at(skew + second), "exp": at(5 * time.Minute)}, false},
		{"exp ClockSkew ago", map[string]any{"iat": at(-skew), "exp": at(-skew)}, true},
		{"exp ClockSkew+1s ago", map[string]any{"iat": at(-skew), "exp": at(-skew - second)}, false},
		{"nbf ClockSkew ahead", map[string]any{"iat": at(0), "exp": at(time.Minute), "nbf": at(skew)}, true},
		{"nbf ClockSkew+1s ahead", map[string]any{"iat": at(0), "exp": at(time.Minute), "nbf": at(skew + second)}, false},
		{"nbf 0 (older Keycloak)", map[string]any{"iat": at(0), "exp": at(time.Minute), "nbf": 0}, true},
		{"no iat", map[string]any{"iat": nil, "exp": at(time.Minute)}, false},
	}
	for _, tc := range idCases {
		t.Run("id token "+tc.name, func(t *testing.T) {
			claims := map[string]any{"nonce": "n-1"}
			for k, v := range tc.claims {
				claims[k] = v
			}
			op.OnToken(func(map[string][]string) map[string]any {
				r := tokenResponse(op, "sub-bob")
				id := idToken(op, "sub-bob", claims)
				if tc.claims["iat"] == nil {
					id = signWithout(op, "iat", claims)
				}
				r["id_token"] = id
				return r
			})
			_, _, err := p.Exchange(ctx, "code", "verifier", "http://127.0.0.1/cb", "n-1")
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, ports.ErrAuthorizationFailed)
			}
		})
	}

	logoutCases := []struct {
		name     string
		iat, exp int64 // exp 0: none
		ok       bool
	}{
		{"iat ClockSkew ago", at(-skew), at(2 * time.Minute), true},
		{"iat ClockSkew ahead", at(skew), at(skew + 2*time.Minute), true},
		{"iat ClockSkew+1s ago", at(-skew - second), at(2 * time.Minute), false},
		{"iat ClockSkew+1s ahead", at(skew + second), at(skew + 2*time.Minute), false},
		{"exp ClockSkew ago", at(-skew), at(-skew), true},
		{"exp ClockSkew+1s ago", at(-skew), at(-skew - second), false},
		{"no exp, iat ClockSkew ago", at(-skew), 0, true},
	}
	for _, tc := range logoutCases {
		t.Run("logout token "+tc.name, func(t *testing.T) {
			c := logoutClaims(op)
			c["iat"] = tc.iat
			delete(c, "exp")
			if tc.exp != 0 {
				c["exp"] = tc.exp
			}
			got, err := p.VerifyLogoutToken(ctx, op.Sign(c, "logout+jwt"))
			if !tc.ok {
				require.ErrorIs(t, err, ports.ErrInvalidLogoutToken)
				return
			}
			require.NoError(t, err)
			// The replay record outlives every instant the token is accepted.
			require.False(t, got.Expires.Before(time.Unix(tc.iat, 0).Add(skew)))
		})
	}
}

// signWithout signs an ID token for sub-bob with claims, leaving out one
// claim the helper would otherwise set.
func signWithout(op *fakeop.OP, claim string, extra map[string]any) string {
	c := map[string]any{"iss": op.Issuer(), "aud": op.ClientID, "azp": op.ClientID, "sub": "sub-bob", "sid": "sid-1"}
	for k, v := range extra {
		c[k] = v
	}
	delete(c, claim)
	return op.Sign(c, "JWT")
}
