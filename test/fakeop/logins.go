package fakeop

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// logins is the provider acting as a whole, if minimal, Keycloak: an
// authorization endpoint that signs the user in at once, a code exchange and
// refresh-token grants with rotation and reuse detection, and a switch that
// stalls refreshes until resumed.
type logins struct {
	initialTTL, refreshedTTL time.Duration

	mu       sync.Mutex
	codes    map[string]login  // code -> who signed in
	live     map[string]login  // refresh tokens not yet rotated away
	requests map[string]int    // refresh token -> refresh requests that presented it
	stall    chan struct{}     // non-nil while refreshes stall; closed to resume
	stalled  int               // refresh requests waiting in the stall now
	issued   map[string]string // every refresh token issued -> its user
	sids     map[string]string // user -> sid of their latest sign-in
	secrets  Secrets           // every secret issued or shown, in order
}

// Secrets are the secret values the provider issued or was shown while
// serving logins, so a test can look for each of them where it must not be.
type Secrets struct {
	Codes         []string // authorization codes issued
	Verifiers     []string // PKCE code_verifier values presented
	ClientSecrets []string // client secrets presented (form or HTTP Basic)
	AccessTokens  []string
	RefreshTokens []string
	IDTokens      []string
}

// Secrets returns what the provider has issued or been shown so far.
func (op *OP) Secrets() Secrets {
	l := op.loginsOrNil()
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.secrets
	clone := func(v []string) []string { return append([]string(nil), v...) }
	return Secrets{Codes: clone(s.Codes), Verifiers: clone(s.Verifiers), ClientSecrets: clone(s.ClientSecrets),
		AccessTokens: clone(s.AccessTokens), RefreshTokens: clone(s.RefreshTokens), IDTokens: clone(s.IDTokens)}
}

type login struct{ sub, nonce, sid string }

// ServeLogins makes the provider sign users in: GET /auth redirects straight
// back to redirect_uri with a code (the user is login_hint, or a new one),
// and the token endpoint answers the authorization_code and refresh_token
// grants with Keycloak-shaped signed tokens. Access tokens from a code live
// initialTTL, refreshed ones refreshedTTL. Refresh tokens rotate: each works
// once, and a reused one gets invalid_grant (Keycloak's revokeRefreshToken).
// Faults set with SetFault still apply first.
func (op *OP) ServeLogins(initialTTL, refreshedTTL time.Duration) {
	op.mu.Lock()
	defer op.mu.Unlock()
	op.logins = &logins{initialTTL: initialTTL, refreshedTTL: refreshedTTL, codes: map[string]login{},
		live: map[string]login{}, requests: map[string]int{}, issued: map[string]string{}, sids: map[string]string{}}
}

// SessionID returns the sid of user's latest sign-in, "" when none.
func (op *OP) SessionID(user string) string {
	l := op.loginsOrNil()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sids[user]
}

func (op *OP) loginsOrNil() *logins {
	op.mu.Lock()
	defer op.mu.Unlock()
	return op.logins
}

// StallRefreshes holds every refresh_token grant request (not code
// exchanges) until resume is called, as a Keycloak that stopped answering
// would. Held requests end early only if their client gives up.
func (op *OP) StallRefreshes() (resume func()) {
	l := op.loginsOrNil()
	l.mu.Lock()
	defer l.mu.Unlock()
	ch := make(chan struct{})
	l.stall = ch
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			l.stall = nil
			l.mu.Unlock()
			close(ch)
		})
	}
}

// StalledRefreshes returns how many refresh requests wait in the stall now.
func (op *OP) StalledRefreshes() int {
	l := op.loginsOrNil()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stalled
}

// RefreshRequests returns, for every refresh token ever presented, how many
// refresh requests presented it.
func (op *OP) RefreshRequests() map[string]int {
	l := op.loginsOrNil()
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]int, len(l.requests))
	for k, v := range l.requests {
		out[k] = v
	}
	return out
}

// RefreshRequestsBySubject returns how many refresh requests each user's
// refresh tokens received.
func (op *OP) RefreshRequestsBySubject() map[string]int {
	l := op.loginsOrNil()
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]int{}
	for rt, n := range l.requests {
		out[l.issued[rt]] += n
	}
	return out
}

func (op *OP) authorize(w http.ResponseWriter, r *http.Request) {
	l := op.loginsOrNil()
	if l == nil {
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	target, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || target.Scheme == "" {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	who := login{sub: q.Get("login_hint"), nonce: q.Get("nonce"), sid: "sid-" + random()}
	if who.sub == "" {
		who.sub = "user-" + random()
	}
	code := random()
	l.mu.Lock()
	l.codes[code] = who
	l.sids[who.sub] = who.sid
	l.secrets.Codes = append(l.secrets.Codes, code)
	l.mu.Unlock()
	back := target.Query()
	back.Set("code", code)
	back.Set("state", q.Get("state"))
	back.Set("iss", op.Issuer())
	target.RawQuery = back.Encode()
	http.Redirect(w, r, target.String(), http.StatusFound)
}

func (op *OP) serveLoginToken(w http.ResponseWriter, r *http.Request, l *logins) {
	l.mu.Lock()
	if v := r.PostForm.Get("code_verifier"); v != "" {
		l.secrets.Verifiers = append(l.secrets.Verifiers, v)
	}
	if v := r.PostForm.Get("client_secret"); v != "" {
		l.secrets.ClientSecrets = append(l.secrets.ClientSecrets, v)
	}
	if _, v, ok := r.BasicAuth(); ok && v != "" {
		if dec, err := url.QueryUnescape(v); err == nil { // RFC 6749 2.3.1 form-encodes it
			v = dec
		}
		l.secrets.ClientSecrets = append(l.secrets.ClientSecrets, v)
	}
	l.mu.Unlock()
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		l.mu.Lock()
		who, ok := l.codes[r.PostForm.Get("code")]
		delete(l.codes, r.PostForm.Get("code"))
		l.mu.Unlock()
		if !ok {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "Code not valid"})
			return
		}
		writeJSON(w, http.StatusOK, op.loginTokens(l, who, l.initialTTL, true))
	case "refresh_token":
		rt := r.PostForm.Get("refresh_token")
		l.mu.Lock()
		l.requests[rt]++
		stall := l.stall
		if stall != nil {
			l.stalled++
		}
		l.mu.Unlock()
		if stall != nil {
			select {
			case <-stall:
			case <-r.Context().Done():
			}
			l.mu.Lock()
			l.stalled--
			l.mu.Unlock()
			if r.Context().Err() != nil {
				return
			}
		}
		l.mu.Lock()
		who, ok := l.live[rt]
		delete(l.live, rt) // rotated: a second use is a reuse
		l.mu.Unlock()
		if !ok {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "Stale token"})
			return
		}
		writeJSON(w, http.StatusOK, op.loginTokens(l, who, l.refreshedTTL, false))
	default:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
	}
}

// SetLoginClaims adds claims, per user, to the ID and access tokens that
// ServeLogins mints, replacing those of the same name (realm_access,
// organization, ...); nil stops adding them.
func (op *OP) SetLoginClaims(claims func(user string) map[string]any) {
	op.mu.Lock()
	defer op.mu.Unlock()
	op.loginClaims = claims
}

// loginTokens mints a token response for who and records its refresh token.
func (op *OP) loginTokens(l *logins, who login, ttl time.Duration, withNonce bool) map[string]any {
	now := op.Now()
	id := map[string]any{"iss": op.Issuer(), "aud": op.ClientID, "azp": op.ClientID, "sub": who.sub, "sid": who.sid,
		"iat": now.Unix(), "exp": now.Add(ttl).Unix(), "name": who.sub, "email": who.sub + "@example.com", "email_verified": true}
	if withNonce {
		id["nonce"] = who.nonce
	}
	accessClaims := map[string]any{"iss": op.Issuer(), "sub": who.sub, "sid": who.sid, "azp": op.ClientID,
		"iat": now.Unix(), "exp": now.Add(ttl).Unix(), "jti": random(),
		"realm_access": map[string]any{"roles": []string{"user"}}}
	op.mu.Lock()
	extra := op.loginClaims
	op.mu.Unlock()
	if extra != nil {
		for k, v := range extra(who.sub) {
			id[k], accessClaims[k] = v, v
		}
	}
	access := op.Sign(accessClaims, "JWT")
	rt := "rt-" + random()
	idToken := op.Sign(id, "JWT")
	l.mu.Lock()
	l.live[rt] = who
	l.issued[rt] = who.sub
	l.secrets.AccessTokens = append(l.secrets.AccessTokens, access)
	l.secrets.RefreshTokens = append(l.secrets.RefreshTokens, rt)
	l.secrets.IDTokens = append(l.secrets.IDTokens, idToken)
	l.mu.Unlock()
	return map[string]any{"access_token": access, "refresh_token": rt, "id_token": idToken,
		"token_type": "Bearer", "expires_in": int(ttl.Seconds()), "refresh_expires_in": 1800, "scope": "openid profile email"}
}

func random() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
