package keycloak_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/adapters/keycloak"
	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
	"github.com/authbff/authbff/test/fakeop"
)

func newProvider(t *testing.T, op *fakeop.OP, timeout time.Duration) *keycloak.Provider {
	t.Helper()
	p, err := keycloak.New(keycloak.Config{Issuer: op.Issuer(), ClientID: op.ClientID, ClientSecret: "s", Timeout: timeout},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	return p
}

// idToken mints an ID token for sub from op.
func idToken(op *fakeop.OP, sub string, extra map[string]any) string {
	now := time.Now()
	c := map[string]any{"iss": op.Issuer(), "aud": op.ClientID, "azp": op.ClientID, "sub": sub, "sid": "sid-1",
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(), "name": "Bob", "email": "bob@example.com"}
	for k, v := range extra {
		c[k] = v
	}
	return op.Sign(c, "JWT")
}

func tokenResponse(op *fakeop.OP, sub string) map[string]any {
	access := op.Sign(map[string]any{"iss": op.Issuer(), "sub": sub, "sid": "sid-1", "exp": time.Now().Add(time.Minute).Unix(),
		"realm_access":    map[string]any{"roles": []string{"user"}},
		"resource_access": map[string]any{"web_app": map[string]any{"roles": []string{"reports-viewer"}}, "other": map[string]any{"roles": []string{"admin"}}},
		"organization":    map[string]any{"acme": map[string]any{"id": "org-acme", "tenant_id": []string{"tenant-acme"}}}}, "JWT")
	return map[string]any{"access_token": access, "refresh_token": "rt-2", "id_token": idToken(op, sub, nil),
		"token_type": "Bearer", "expires_in": 60, "refresh_expires_in": 1800}
}

func TestRefreshFaults(t *testing.T) {
	before := runtime.NumGoroutine()
	op := fakeop.New(t)
	p := newProvider(t, op, time.Second)
	prev := idToken(op, "sub-bob", nil)
	ctx := context.Background()

	op.OnToken(func(map[string][]string) map[string]any { return tokenResponse(op, "sub-bob") })
	id, set, err := p.Refresh(ctx, "rt-1", prev)
	require.NoError(t, err)
	require.Equal(t, "rt-2", set.RefreshToken)
	require.Equal(t, "sub-bob", id.Subject)
	require.ElementsMatch(t, []domain.Role{{Name: "user", Source: "realm"}, {Name: "reports-viewer", Source: "client:web_app"}}, id.Roles,
		"realm roles and this client's roles; another client's 'admin' is ignored")
	require.Equal(t, []domain.Organization{{ExternalID: "org-acme", Alias: "acme", Name: "acme", TenantID: "tenant-acme"}}, id.Organizations)
	require.False(t, set.RefreshTokenExpiresAt.IsZero())

	redirected := make(chan struct{}, 1)
	elsewhere := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { redirected <- struct{}{} }))
	defer elsewhere.Close()
	op.RedirectTarget = elsewhere.URL

	cases := []struct {
		name  string
		fault fakeop.Fault
		want  error
	}{
		{"5s latency with a 1s timeout", fakeop.Slow, domain.ErrUnavailable},
		{"503", fakeop.ServerError, domain.ErrUnavailable},
		{"connection reset", fakeop.Reset, domain.ErrUnavailable},
		{"307 redirect", fakeop.Redirect, domain.ErrUnavailable},
		{"403 from an ingress, no OAuth error", fakeop.BareForbidden, domain.ErrUnavailable},
		{"invalid_client (our misconfiguration)", fakeop.InvalidClient, domain.ErrUnavailable},
		{"invalid_grant", fakeop.InvalidGrant, ports.ErrRefreshRejected},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			op.SetFault(tc.fault, 5*time.Second)
			calls := op.TokenCalls.Load()
			start := time.Now()
			_, _, err := p.Refresh(ctx, "rt-1", prev)
			t.Logf("%s: answered in %v (timeout 1s)", tc.name, time.Since(start).Round(time.Millisecond))
			// The 5s-latency case succeeds unless the 1s timeout ends the call.
			require.ErrorIs(t, err, tc.want)
			if errors.Is(tc.want, domain.ErrUnavailable) {
				require.NotErrorIs(t, err, ports.ErrRefreshRejected, "a transient fault must not end the session")
			}
			require.EqualValues(t, 1, op.TokenCalls.Load()-calls, "exactly one request: no blind retry with a maybe-rotated token")
			require.NotContains(t, err.Error(), "rt-1", "tokens never appear in errors")
		})
	}
	select {
	case <-redirected:
		t.Fatal("the refresh token followed the redirect")
	default:
	}
	op.SetFault(fakeop.None, 0)
	// Goroutines return to baseline (the slow handler's context ends).
	require.Eventually(t, func() bool { return runtime.NumGoroutine() <= before+10 }, 5*time.Second, 20*time.Millisecond)
}

func TestRefreshRefusesTokensForAnotherSubject(t *testing.T) {
	op := fakeop.New(t)
	p := newProvider(t, op, time.Second)
	op.OnToken(func(map[string][]string) map[string]any { return tokenResponse(op, "sub-mallory") })
	_, _, err := p.Refresh(context.Background(), "rt-1", idToken(op, "sub-bob", nil))
	require.ErrorIs(t, err, ports.ErrAuthorizationFailed)
}

func TestExchangeChecksNonceAndAzp(t *testing.T) {
	op := fakeop.New(t)
	p := newProvider(t, op, time.Second)
	ctx := context.Background()
	respond := func(claims map[string]any) {
		op.OnToken(func(map[string][]string) map[string]any {
			r := tokenResponse(op, "sub-bob")
			r["id_token"] = idToken(op, "sub-bob", claims)
			return r
		})
	}
	respond(map[string]any{"nonce": "n-1"})
	id, _, err := p.Exchange(ctx, "code", "verifier", "http://127.0.0.1/cb", "n-1")
	require.NoError(t, err)
	require.Equal(t, "sid-1", id.SessionID)

	for name, claims := range map[string]map[string]any{
		"wrong nonce":    {"nonce": "n-other"},
		"no nonce":       {},
		"other azp":      {"nonce": "n-1", "azp": "another-client"},
		"other audience": {"nonce": "n-1", "aud": "another-client"},
		"expired":        {"nonce": "n-1", "exp": time.Now().Add(-time.Hour).Unix()},
		"other issuer":   {"nonce": "n-1", "iss": "http://127.0.0.1:1/evil"},
		"empty subject":  {"nonce": "n-1", "sub": ""},
	} {
		respond(claims)
		_, _, err := p.Exchange(ctx, "code", "verifier", "http://127.0.0.1/cb", "n-1")
		require.ErrorIs(t, err, ports.ErrAuthorizationFailed, name)
	}
	// A token signed by someone else.
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	op.OnToken(func(map[string][]string) map[string]any {
		r := tokenResponse(op, "sub-bob")
		r["id_token"] = fakeop.SignWith(other, op.KeyID, map[string]any{"iss": op.Issuer(), "aud": op.ClientID, "sub": "sub-bob",
			"nonce": "n-1", "exp": time.Now().Add(time.Minute).Unix(), "iat": time.Now().Unix()}, "JWT")
		return r
	})
	_, _, err = p.Exchange(ctx, "code", "verifier", "http://127.0.0.1/cb", "n-1")
	require.ErrorIs(t, err, ports.ErrAuthorizationFailed)
}

func logoutClaims(op *fakeop.OP) map[string]any {
	now := time.Now()
	return map[string]any{"iss": op.Issuer(), "aud": op.ClientID, "sub": "sub-bob", "sid": "sid-1",
		"iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(), "jti": "jti-1",
		"events": map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}}}
}

// TestLogoutTokenValidation has one case per check of OIDC Back-Channel
// Logout 1.0 §2.6 (Keycloak's LogoutTokenValidationCode list).
func TestLogoutTokenValidation(t *testing.T) {
	op := fakeop.New(t)
	p := newProvider(t, op, time.Second)
	ctx := context.Background()
	got, err := p.VerifyLogoutToken(ctx, op.Sign(logoutClaims(op), "logout+jwt"))
	require.NoError(t, err)
	require.Equal(t, ports.LogoutClaims{Issuer: op.Issuer(), Subject: "sub-bob", SessionID: "sid-1", JTI: "jti-1",
		IssuedAt: got.IssuedAt, Expires: got.Expires}, got)

	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	tweak := func(f func(map[string]any)) string {
		c := logoutClaims(op)
		f(c)
		return op.Sign(c, "logout+jwt")
	}
	cases := map[string]string{
		"DECODE_TOKEN_FAILED":                "not.a.token",
		"TOKEN_VERIFICATION_WITH_IDP_FAILED": fakeop.SignWith(other, op.KeyID, logoutClaims(op), "logout+jwt"),
		"unknown key id":                     fakeop.SignWith(other, "kid-nobody-knows", logoutClaims(op), "logout+jwt"),
		"wrong issuer":                       tweak(func(c map[string]any) { c["iss"] = "http://127.0.0.1:1/evil" }),
		"wrong audience":                     tweak(func(c map[string]any) { c["aud"] = "another-client" }),
		"MISSING_SID_OR_SUBJECT":             tweak(func(c map[string]any) { delete(c, "sid"); delete(c, "sub") }),
		"BACKCHANNEL_LOGOUT_EVENT_MISSING":   tweak(func(c map[string]any) { delete(c, "events") }),
		"wrong event":                        tweak(func(c map[string]any) { c["events"] = map[string]any{"urn:other": map[string]any{}} }),
		"NONCE_CLAIM_IN_TOKEN":               tweak(func(c map[string]any) { c["nonce"] = "n" }),
		"MISSING_IAT_CLAIM":                  tweak(func(c map[string]any) { delete(c, "iat") }),
		"LOGOUT_TOKEN_ID_MISSING":            tweak(func(c map[string]any) { delete(c, "jti") }),
		"expired":                            tweak(func(c map[string]any) { c["exp"] = time.Now().Add(-5 * time.Minute).Unix() }),
		"issued long ago":                    tweak(func(c map[string]any) { c["iat"] = time.Now().Add(-time.Hour).Unix() }),
		"issued in the future":               tweak(func(c map[string]any) { c["iat"] = time.Now().Add(time.Hour).Unix() }),
		"alg none":                           "eyJhbGciOiJub25lIn0." + "eyJpc3MiOiJ4In0.",
	}
	for name, raw := range cases {
		_, err := p.VerifyLogoutToken(ctx, raw)
		require.ErrorIs(t, err, ports.ErrInvalidLogoutToken, name)
	}
	// Only a sub: valid (every session of that user ends).
	onlySub, err := p.VerifyLogoutToken(ctx, tweak(func(c map[string]any) { delete(c, "sid") }))
	require.NoError(t, err)
	require.Empty(t, onlySub.SessionID)
}

// TestForgedKeyIDsDoNotHammerTheJWKS is docs/security.md R6: 1000 forged logout
// tokens with random key ids, sent concurrently, fetch the IdP's JWKS at most
// twice and are all refused.
func TestForgedKeyIDsDoNotHammerTheJWKS(t *testing.T) {
	op := fakeop.New(t)
	p := newProvider(t, op, time.Second)
	forger, _ := rsa.GenerateKey(rand.Reader, 2048)
	start := op.JWKSCalls.Load()
	heap := func() uint64 { // live heap after a collection
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	heapBefore := heap()
	var refused atomic.Int64
	sem := make(chan struct{}, 20)
	done := make(chan struct{})
	for i := 0; i < 1000; i++ {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; done <- struct{}{} }()
			var b [8]byte
			_, _ = rand.Read(b[:])
			raw := fakeop.SignWith(forger, "kid-"+string(rune('a'+b[0]%26))+string(rune('a'+b[1]%26))+string(rune('a'+b[2]%26)), logoutClaims(op), "logout+jwt")
			if _, err := p.VerifyLogoutToken(context.Background(), raw); errors.Is(err, ports.ErrInvalidLogoutToken) {
				refused.Add(1)
			}
		}()
	}
	for i := 0; i < 1000; i++ {
		<-done
	}
	fetches := op.JWKSCalls.Load() - start
	grown := int64(heap()) - int64(heapBefore)
	t.Logf("1000 forged logout tokens: %d refused, JWKS fetched %d times, live heap grew %d KB", refused.Load(),
		fetches, grown>>10)
	require.EqualValues(t, 1000, refused.Load())
	require.LessOrEqual(t, fetches, int64(2))
	require.Less(t, grown, int64(50<<20), "forged key ids leave nothing behind (R6: growth within 50 MB)")
}

// TestJWKSOutageIsNotAForgery: a fresh process whose first JWKS fetch fails
// reports the refresh as unavailable (the session is kept), and recovers as
// soon as the JWKS answers again.
func TestJWKSOutageIsNotAForgery(t *testing.T) {
	op := fakeop.New(t)
	var clock atomic.Int64 // seconds the test has stepped the key set's clock
	base := time.Now()
	p, err := keycloak.New(keycloak.Config{Issuer: op.Issuer(), ClientID: op.ClientID, ClientSecret: "s", Timeout: time.Second,
		Now: func() time.Time { return base.Add(time.Duration(clock.Load()) * time.Second) }},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	prev := idToken(op, "sub-bob", nil)
	op.OnToken(func(map[string][]string) map[string]any { return tokenResponse(op, "sub-bob") })

	op.JWKSDown.Store(true)
	_, _, err = p.Refresh(context.Background(), "rt-1", prev)
	require.ErrorIs(t, err, domain.ErrUnavailable)
	require.NotErrorIs(t, err, ports.ErrRefreshRejected)
	require.NotErrorIs(t, err, ports.ErrAuthorizationFailed)

	op.JWKSDown.Store(false)
	calls := op.JWKSCalls.Load()
	_, _, err = p.Refresh(context.Background(), "rt-1", prev)
	require.ErrorIs(t, err, domain.ErrUnavailable, "within the failure backoff the JWKS is not asked again")
	require.Equal(t, calls, op.JWKSCalls.Load())

	clock.Add(6) // past the 5s failure backoff
	_, _, err = p.Refresh(context.Background(), "rt-1", prev)
	require.NoError(t, err, "recovered once the JWKS answers")
}
