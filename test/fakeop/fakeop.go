// Package fakeop is a minimal OpenID provider for the faults a real Keycloak
// cannot produce on demand: slow or failing token endpoints, redirects,
// connection resets, forged and malformed tokens. It serves discovery, JWKS
// and a token endpoint on a loopback httptest server, counts what it is
// asked, and mints Keycloak-shaped tokens signed with its own RSA key.
package fakeop

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Fault is how the token endpoint misbehaves.
type Fault int

// Faults.
const (
	None          Fault = iota
	Slow                // sleeps Delay before answering
	ServerError         // 503
	InvalidGrant        // 400 invalid_grant
	Reset               // closes the connection without an answer
	Redirect            // 307 to RedirectTarget
	BareForbidden       // 403 with an HTML body and no OAuth error (an ingress page)
	InvalidClient       // 401 invalid_client (authbff misconfigured)
)

// OP is the fake provider.
type OP struct {
	Server   *httptest.Server
	ClientID string
	Key      *rsa.PrivateKey
	KeyID    string

	mu             sync.Mutex
	fault          Fault
	delay          time.Duration
	RedirectTarget string
	next           func(form map[string][]string) map[string]any
	clock          func() time.Time // nil: time.Now

	TokenCalls atomic.Int64
	JWKSCalls  atomic.Int64
	// JWKSDown makes the JWKS endpoint answer 503 while true.
	JWKSDown atomic.Bool

	logins *logins // set by ServeLogins
	// loginClaims adds claims per user to the tokens of ServeLogins.
	loginClaims func(user string) map[string]any
}

// New starts a provider; it stops when the test ends.
func New(t testing.TB) *OP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	op := &OP{ClientID: "web_app", Key: key, KeyID: "fake-key-1"}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", op.discovery)
	mux.HandleFunc("/jwks", op.jwks)
	mux.HandleFunc("/token", op.token)
	mux.HandleFunc("/auth", op.authorize)
	// Assigned before Start, so the handlers' reads of op.Server happen
	// after the write even when the requests come from another process
	// (the race detector cannot see that ordering through a socket).
	op.Server = httptest.NewUnstartedServer(mux)
	op.Server.Start()
	t.Cleanup(op.Server.Close)
	return op
}

// Issuer returns the provider's issuer.
func (op *OP) Issuer() string { return op.Server.URL }

// SetFault makes the token endpoint misbehave.
func (op *OP) SetFault(f Fault, delay time.Duration) {
	op.mu.Lock()
	defer op.mu.Unlock()
	op.fault, op.delay = f, delay
}

// SetClock makes the provider read the time it stamps on the tokens it
// mints (iat, exp) from clock, for example the relying party's clock plus
// a skew. nil restores time.Now.
func (op *OP) SetClock(clock func() time.Time) {
	op.mu.Lock()
	defer op.mu.Unlock()
	op.clock = clock
}

// Now is the provider's clock.
func (op *OP) Now() time.Time {
	op.mu.Lock()
	clock := op.clock
	op.mu.Unlock()
	if clock == nil {
		return time.Now()
	}
	return clock()
}

// LogoutToken mints a back-channel logout token as Keycloak 26 does: typ
// logout+jwt, aud the client, iat now on the provider's clock, exp two
// minutes later, a random jti, the logout event, sub, and sid when given.
func (op *OP) LogoutToken(sub, sid string) string {
	now := op.Now()
	c := map[string]any{"iss": op.Issuer(), "aud": op.ClientID, "sub": sub, "iat": now.Unix(),
		"exp": now.Add(2 * time.Minute).Unix(), "jti": random(),
		"events": map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}}}
	if sid != "" {
		c["sid"] = sid
	}
	return op.Sign(c, "logout+jwt")
}

// OnToken sets the token endpoint's successful answer.
func (op *OP) OnToken(f func(form map[string][]string) map[string]any) {
	op.mu.Lock()
	defer op.mu.Unlock()
	op.next = f
}

func (op *OP) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer": op.Issuer(), "authorization_endpoint": op.Issuer() + "/auth", "token_endpoint": op.Issuer() + "/token",
		"jwks_uri": op.Issuer() + "/jwks", "end_session_endpoint": op.Issuer() + "/logout",
		"id_token_signing_alg_values_supported": []string{"RS256"}, "response_types_supported": []string{"code"},
		"subject_types_supported": []string{"public"}, "code_challenge_methods_supported": []string{"S256"},
		"authorization_response_iss_parameter_supported": true,
	})
}

func (op *OP) jwks(w http.ResponseWriter, _ *http.Request) {
	op.JWKSCalls.Add(1)
	if op.JWKSDown.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "down"})
		return
	}
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key: &op.Key.PublicKey, KeyID: op.KeyID, Algorithm: "RS256", Use: "sig",
	}}})
}

func (op *OP) token(w http.ResponseWriter, r *http.Request) {
	op.TokenCalls.Add(1)
	_ = r.ParseForm()
	op.mu.Lock()
	fault, delay, next, target := op.fault, op.delay, op.next, op.RedirectTarget
	op.mu.Unlock()
	switch fault {
	case Slow:
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	case ServerError:
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "temporarily_unavailable"})
		return
	case InvalidGrant:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "Token is not active"})
		return
	case Reset:
		if hj, ok := w.(http.Hijacker); ok {
			conn, _, _ := hj.Hijack()
			_ = conn.Close()
		}
		return
	case Redirect:
		http.Redirect(w, r, target, http.StatusTemporaryRedirect)
		return
	case BareForbidden:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte("<html>forbidden by the ingress</html>"))
		return
	case InvalidClient:
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	if l := op.loginsOrNil(); l != nil {
		op.serveLoginToken(w, r, l)
		return
	}
	if next == nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	writeJSON(w, http.StatusOK, next(r.PostForm))
}

// Sign signs claims with the provider's key (or with key and kid when
// given), with the JOSE header typ.
func (op *OP) Sign(claims map[string]any, typ string) string {
	return SignWith(op.Key, op.KeyID, claims, typ)
}

// SignWith signs claims with any RSA key.
func SignWith(key *rsa.PrivateKey, kid string, claims map[string]any, typ string) string {
	opts := (&jose.SignerOptions{}).WithType(jose.ContentType(typ)).WithHeader("kid", kid)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, opts)
	if err != nil {
		panic(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		panic(err)
	}
	s, _ := jws.CompactSerialize()
	return s
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
