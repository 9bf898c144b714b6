package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/authbff/authbff/adapters/keycloak"
	"github.com/authbff/authbff/test/authjsclient"
	"github.com/authbff/authbff/test/fakeop"
)

// TestClockSkew is docs/security.md R13. authbff runs in-process (SQLite,
// real HTTP, a browser's cookie jar) against test/fakeop, with the IdP's
// clock set apart from authbff's by each skew of the table. With the clocks
// keycloak.ClockSkew apart either way, sign-in, a refresh and a back-channel
// logout all succeed; one second further apart, each is refused with a 4xx
// (sign-in with Auth.js's error redirect) and nothing answers 5xx.
//
// authbff's clock for token checks (keycloak.Config.Now) is frozen and the
// IdP's is that clock plus the skew, so the claims the IdP stamps are exactly
// the skew away and the edges hold to the second. Nothing else in authbff
// compares its clock with the IdP's: token lifetimes arrive as expires_in,
// relative to the answer.
func TestClockSkew(t *testing.T) {
	op := fakeop.New(t)
	// Access tokens from sign-in are within the 30 s refresh window, so the
	// first GET /api/auth/token refreshes.
	op.ServeLogins(10*time.Second, time.Hour)
	authbffNow := time.Unix(time.Now().Unix(), 0)
	var skew atomic.Int64 // the IdP's clock minus authbff's
	op.SetClock(func() time.Time { return authbffNow.Add(time.Duration(skew.Load())) })
	base, logs := startServeWithIdPClock(t, op, func() time.Time { return authbffNow })

	tolerance := keycloak.ClockSkew
	cases := []struct {
		name string
		skew time.Duration
		held bool
	}{
		{"IdP ClockSkew ahead", tolerance, true},
		{"IdP ClockSkew behind", -tolerance, true},
		{"IdP ClockSkew+1s ahead", tolerance + time.Second, false},
		{"IdP ClockSkew+1s behind", -tolerance - time.Second, false},
	}
	for i, tc := range cases {
		user := func(step string) string { return "skew-" + string(rune('a'+i)) + "-" + step }
		t.Run(tc.name, func(t *testing.T) {
			if tc.held {
				skew.Store(int64(tc.skew))
				c, landed := skewSignIn(t, base, user("all"))
				require.Equal(t, base+"/", landed, "signed in")
				require.NotNil(t, skewSession(t, c))

				status, tok := skewToken(t, c)
				require.Equal(t, http.StatusOK, status)
				require.NotEmpty(t, tok)
				require.Equal(t, 1, op.RefreshRequestsBySubject()[user("all")], "the token was refreshed")

				status = skewBackchannel(t, base, op.LogoutToken(user("all"), op.SessionID(user("all"))))
				require.Equal(t, http.StatusOK, status)
				require.Nil(t, skewSession(t, c), "the back-channel logout ended the session")
				return
			}

			// Sign-in: the callback redirects to Auth.js's error page and
			// no session is made.
			skew.Store(int64(tc.skew))
			c, landed := skewSignIn(t, base, user("signin"))
			u, err := url.Parse(landed)
			require.NoError(t, err)
			require.Equal(t, "OAuthCallbackError", u.Query().Get("error"), "landed on %s", landed)
			require.Nil(t, skewSession(t, c))
			for _, ck := range c.HTTP.Jar.Cookies(mustParse(t, base)) {
				require.NotEqual(t, "authjs.session-token", ck.Name, "no session cookie")
			}

			// Refresh of a session made with the clocks in step: 401
			// session_ended. The IdP has rotated the refresh token by then,
			// so the session cannot go on and is ended.
			skew.Store(0)
			c, landed = skewSignIn(t, base, user("refresh"))
			require.Equal(t, base+"/", landed)
			skew.Store(int64(tc.skew))
			status, _ := skewToken(t, c)
			require.Equal(t, http.StatusUnauthorized, status)
			require.Nil(t, skewSession(t, c))

			// Back-channel logout: 400, and the session is kept.
			skew.Store(0)
			c, landed = skewSignIn(t, base, user("logout"))
			require.Equal(t, base+"/", landed)
			skew.Store(int64(tc.skew))
			status = skewBackchannel(t, base, op.LogoutToken(user("logout"), op.SessionID(user("logout"))))
			require.Equal(t, http.StatusBadRequest, status)
			require.NotNil(t, skewSession(t, c), "a refused logout token ends nothing")
		})
	}
	require.NotContains(t, logs.String(), `"level":"ERROR"`)
}

// startServeWithIdPClock runs the server as `authbff serve` does, in-process
// on SQLite against op, with the Keycloak adapter reading now as its clock.
func startServeWithIdPClock(t *testing.T, op *fakeop.OP, now func() time.Time) (string, *syncBuffer) {
	t.Helper()
	addr := freeAddr(t)
	base := "http://" + addr
	logs := startApp(t, map[string]string{
		"LISTEN_ADDR": addr, "AUTH_URL": base + "/api/auth", "AUTH_ENV": "development",
		"AUTH_SECRET": "clock-skew-test-secret-0123456789abcdef", "AUTH_CLEANUP_INTERVAL": "0",
		"AUTH_KEYCLOAK_ISSUER": op.Issuer(), "AUTH_KEYCLOAK_ID": op.ClientID, "AUTH_KEYCLOAK_SECRET": "s",
	}, fx.Decorate(func(c keycloak.Config) keycloak.Config {
		c.Now = now
		return c
	}))
	return base, logs
}

// skewSignIn signs user in through op in a new browser and returns it and
// where authbff finally sent it. Any 5xx on the way fails the test.
func skewSignIn(t *testing.T, base, user string) (*authjsclient.Client, string) {
	t.Helper()
	c := authjsclient.New(base)
	landed, err := c.SignInAutoApprove(base+"/", url.Values{"login_hint": {user}})
	require.NoError(t, err)
	return c, landed
}

// skewSession is getSession(): nil when signed out.
func skewSession(t *testing.T, c *authjsclient.Client) map[string]any {
	t.Helper()
	s, r, err := c.Session()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.Status)
	return s
}

// skewToken asks for the session's access token, as the app's server does.
func skewToken(t *testing.T, c *authjsclient.Client) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.Base+"/api/auth/token", nil)
	require.NoError(t, err)
	req.Header.Set("X-CSRF", "1")
	r, err := c.Do(req)
	require.NoError(t, err)
	var body struct {
		AccessToken string `json:"accessToken"`
	}
	if r.Status == http.StatusOK {
		require.NoError(t, json.Unmarshal(r.Body, &body))
	}
	return r.Status, body.AccessToken
}

// skewBackchannel posts a logout token as the IdP does.
func skewBackchannel(t *testing.T, base, token string) int {
	t.Helper()
	resp, err := http.PostForm(base+"/api/auth/backchannel-logout", url.Values{"logout_token": {token}})
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func mustParse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(strings.TrimSuffix(raw, "/"))
	require.NoError(t, err)
	return u
}
