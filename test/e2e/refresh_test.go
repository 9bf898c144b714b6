package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/test/authjsclient"
)

// upstreamRecorder is the backend API: it records what reached it.
type upstreamRecorder struct {
	mu   sync.Mutex
	seen []http.Header
	srv  *httptest.Server
}

func newUpstream(t *testing.T) *upstreamRecorder {
	u := &upstreamRecorder{}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.seen = append(u.seen, r.Header.Clone())
		u.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true,"path":"` + r.URL.Path + `"}`))
	}))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *upstreamRecorder) headers() []http.Header {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]http.Header(nil), u.seen...)
}

// withCookie returns a client for base that presents an existing session
// cookie, as a second replica behind the same origin would see it.
func withCookie(base, token string) *http.Client {
	return &http.Client{Transport: cookieTransport{token: token}}
}

type cookieTransport struct{ token string }

func (c cookieTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Cookie", "authjs.session-token="+c.token)
	return http.DefaultTransport.RoundTrip(r)
}

// TestRefreshIsSerialisedAcrossTwoProcesses is docs/security.md R1 against the
// real Keycloak with refresh-token rotation and reuse detection
// (revokeRefreshToken, refreshTokenMaxReuse 0): after the access token
// expires, 100 concurrent token and proxy requests spread over two authbff
// processes on one PostgreSQL cause exactly one refresh at Keycloak, all
// answer 200 with the same new token, and the session keeps working. A
// second refresh with a reused refresh token would make Keycloak drop the
// client session, so the next round would fail: the loop proves it did not
// happen.
func TestRefreshIsSerialisedAcrossTwoProcesses(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	up := newUpstream(t)
	// AUTH_DEBUG on: even debug logs must not carry a token (docs/security.md R14).
	extra := map[string]string{"BACKEND_API_URL": up.srv.URL + "/api", "AUTH_TOKEN_RATE_LIMIT": "1000", "AUTH_DEBUG": "true"}
	a := e.start("", extra)
	b := e.start("", extra)
	kc := newKCAdmin(t)
	kc.enableRefreshEvents()

	browser := authjsclient.New(a.Base)
	_, err := browser.SignInKeycloak("alice", "alice", a.Base+"/")
	require.NoError(t, err)
	token := sessionCookie(t, browser, a.Base)
	var sid string
	require.NoError(t, e.DB.QueryRow(`SELECT provider_session_id FROM sessions`).Scan(&sid))

	seenTokens := map[string]bool{token: true}
	// The checklist's 50 rounds (about 20 s); AUTHBFF_R1_ROUNDS sets another
	// count.
	const perRound = 100
	rounds := 50
	if v := os.Getenv("AUTHBFF_R1_ROUNDS"); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(t, err, "AUTHBFF_R1_ROUNDS")
		require.Positive(t, n, "AUTHBFF_R1_ROUNDS")
		rounds = n
	}
	for round := 1; round <= rounds; round++ {
		before := len(kc.events("REFRESH_TOKEN", sid))
		// Time travel: the stored access token is now due for refresh.
		_, err := e.DB.Exec(`UPDATE sessions SET access_token_expires_at = now() - interval '1 second'`)
		require.NoError(t, err)

		type result struct {
			status int
			token  string
		}
		results := make([]result, perRound)
		var wg sync.WaitGroup
		for i := 0; i < perRound; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				target := []*bff{a, b}[i%2]
				client := withCookie(target.Base, token)
				var req *http.Request
				if i%4 < 2 {
					req, _ = http.NewRequest(http.MethodGet, target.Base+"/api/auth/token", nil)
					req.Header.Set("X-CSRF", "1")
				} else {
					req, _ = http.NewRequest(http.MethodGet, target.Base+"/api/proxy/customers?page=1", nil)
					req.Header.Set("Authorization", "Bearer spoofed")
					req.Header.Set("X-Tenant-ID", "evil")
				}
				resp, err := client.Do(req)
				if err != nil {
					results[i] = result{status: -1}
					return
				}
				defer resp.Body.Close()
				body, _ := io.ReadAll(resp.Body)
				r := result{status: resp.StatusCode}
				if strings.HasSuffix(req.URL.Path, "/token") {
					var tok struct {
						AccessToken string `json:"accessToken"`
					}
					_ = json.Unmarshal(body, &tok)
					r.token = tok.AccessToken
				}
				results[i] = r
			}()
		}
		wg.Wait()

		statuses := map[int]int{}
		tokens := map[string]bool{}
		for _, r := range results {
			statuses[r.status]++
			if r.token != "" {
				tokens[r.token] = true
				seenTokens[r.token] = true
			}
		}
		refreshes := eventually(func() int { return len(kc.events("REFRESH_TOKEN", sid)) }, before+1) - before
		errorsAtKC := len(kc.events("REFRESH_TOKEN_ERROR", sid))
		t.Logf("round %d: %d requests over 2 processes -> statuses %s; distinct access tokens handed out: %d; refreshes at Keycloak: %d; refresh errors at Keycloak: %d",
			round, perRound, fmtStatuses(statuses), len(tokens), refreshes, errorsAtKC)
		require.Equal(t, map[int]int{200: perRound}, statuses)
		require.Len(t, tokens, 1, "every caller got the same new access token")
		require.Equal(t, 1, refreshes, "exactly one refresh at Keycloak")
		require.Zero(t, errorsAtKC, "no refresh token was ever reused")
	}

	// Every proxied call carried exactly one bearer token (one of the
	// session's), the tenant context, and nothing the client spoofed.
	for _, h := range up.headers() {
		require.Len(t, h.Values("Authorization"), 1)
		require.True(t, strings.HasPrefix(h.Get("Authorization"), "Bearer ey"), h.Get("Authorization"))
		require.Equal(t, []string{"tenant-acme"}, h.Values("X-Tenant-Id"))
		require.Equal(t, []string{"0a0a0a0a-0000-4000-8000-000000000a01"}, h.Values("X-Organization-Id"))
		require.Empty(t, h.Get("Cookie"))
	}
	require.Len(t, up.headers(), rounds*perRound/2)

	s, _, err := browser.Session()
	require.NoError(t, err)
	require.NotNil(t, s, "the session still works after every round")

	// No session token or access token in either process's logs (JSON
	// access logs, audit lines, debug SQL lines).
	for _, p := range []*bff{a, b} {
		logs := p.logs.String()
		require.Contains(t, logs, `"msg":"db query"`, "debug logging was on")
		for tok := range seenTokens {
			require.NotContains(t, logs, tok)
			require.NotContains(t, logs, tok[:40])
		}
		require.NotContains(t, logs, "web_app_secret")
	}
}

func fmtStatuses(m map[int]int) string {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d x%d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
