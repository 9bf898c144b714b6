package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/test/authjsclient"
)

func sessionCookie(t *testing.T, c *authjsclient.Client, base string) string {
	t.Helper()
	u, _ := url.Parse(base)
	for _, ck := range c.HTTP.Jar.Cookies(u) {
		if ck.Name == "authjs.session-token" {
			return ck.Value
		}
	}
	t.Fatal("no session cookie in the jar")
	return ""
}

func TestAliceSignsInThroughKeycloak(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.start("", nil)
	c := authjsclient.New(b.Base)

	providers, err := c.Providers()
	require.NoError(t, err)
	require.Equal(t, "oidc", providers["keycloak"]["type"])

	landed, err := c.SignInKeycloak("alice", "alice", b.Base+"/dashboard")
	require.NoError(t, err)
	require.Equal(t, b.Base+"/dashboard", landed)

	s, resp, err := c.Session()
	require.NoError(t, err)
	require.NotNil(t, s)
	require.Equal(t, "private, no-cache, no-store", resp.Header.Get("Cache-Control"))
	user := s["user"].(map[string]any)
	require.Equal(t, "alice@example.com", user["email"])
	require.Equal(t, "Alice Anders", user["name"])
	require.ElementsMatch(t, []any{"admin", "user", "reports-viewer"}, user["roles"])
	orgs := s["organizations"].([]any)
	require.Len(t, orgs, 1)
	active := s["activeOrganization"].(map[string]any)
	require.Equal(t, "acme", active["alias"])
	require.Equal(t, "0a0a0a0a-0000-4000-8000-000000000a01", active["id"], "Keycloak's organization id")
	require.Equal(t, "tenant-acme", active["tenantId"], "the tenant_id attribute")

	// The row holds only the token's hash, the IdP's sid, and ciphertext.
	token := sessionCookie(t, c, b.Base)
	sum := sha256.Sum256([]byte(token))
	var hash string
	var access, refresh, idTok []byte
	var sid string
	require.NoError(t, e.DB.QueryRow(`SELECT token_hash, access_token, refresh_token, id_token, provider_session_id FROM sessions`).
		Scan(&hash, &access, &refresh, &idTok, &sid))
	require.Equal(t, hex.EncodeToString(sum[:]), hash)
	require.NotContains(t, hash, token)
	require.NotEmpty(t, sid, "Keycloak's sid is kept for back-channel logout")
	for name, v := range map[string][]byte{"access": access, "refresh": refresh, "id": idTok} {
		require.NotEmpty(t, v, name)
		require.NotContains(t, string(v), "eyJ", "%s token must be stored encrypted", name)
	}
	require.Equal(t, 0, e.count(`SELECT count(*) FROM sessions WHERE token_hash = $1`, token), "the raw token is never stored")
	require.Equal(t, 1, e.count(`SELECT count(*) FROM accounts WHERE provider = 'keycloak' AND provider_account_id = 'a11ce000-0000-4000-8000-000000000001'`))
	require.NotContains(t, b.logs.String(), token, "the session token never reaches the logs")
}

func TestBobHasTwoOrganizationsAndSwitches(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.start("", nil)
	c := authjsclient.New(b.Base)
	_, err := c.SignInKeycloak("bob", "bob", b.Base+"/")
	require.NoError(t, err)

	s, _, err := c.Session()
	require.NoError(t, err)
	require.Len(t, s["organizations"].([]any), 2)
	require.Equal(t, "acme", s["activeOrganization"].(map[string]any)["alias"])
	require.Equal(t, []any{"user"}, s["user"].(map[string]any)["roles"])
	before := sessionCookie(t, c, b.Base)

	s, resp, err := c.Update(map[string]any{"organizationId": "0b0b0b0b-0000-4000-8000-000000000b02"})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.Status)
	active := s["activeOrganization"].(map[string]any)
	require.Equal(t, "globex", active["alias"])
	require.Equal(t, "globex", active["tenantId"], "without a tenant_id attribute the alias is the tenant key")
	require.NotEqual(t, before, sessionCookie(t, c, b.Base), "switching organization rotates the session token")

	_, resp, err = c.Update(map[string]any{"organizationId": "initech"})
	require.NoError(t, err)
	require.Equal(t, http.StatusForbidden, resp.Status)
}

func TestSignOutEndsTheKeycloakSessionToo(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.start("", nil)
	c := authjsclient.New(b.Base)
	_, err := c.SignInKeycloak("bob", "bob", b.Base+"/")
	require.NoError(t, err)
	require.Equal(t, 1, e.count(`SELECT count(*) FROM sessions`))

	endURL, resp, err := c.SignOut(b.Base + "/goodbye")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.Status)
	require.True(t, strings.HasPrefix(endURL, issuer+"/protocol/openid-connect/logout?"), endURL)
	require.Contains(t, endURL, "id_token_hint=")
	require.Contains(t, endURL, "post_logout_redirect_uri="+url.QueryEscape(b.Base+"/api/auth/signout/callback"),
		"one fixed post-logout URI, registered exactly at the IdP")
	require.Contains(t, endURL, "state=", "the state names the callbackUrl")
	require.Equal(t, 0, e.count(`SELECT count(*) FROM sessions`), "the row is deleted")
	s, _, err := c.Session()
	require.NoError(t, err)
	require.Nil(t, s)

	// The browser follows the url: Keycloak ends its session without asking
	// and sends the browser back.
	r, err := c.Get(endURL)
	require.NoError(t, err)
	require.Equal(t, http.StatusFound, r.Status, "%.300s", r.Body)
	back := r.Header.Get("Location")
	require.True(t, strings.HasPrefix(back, b.Base+"/api/auth/signout/callback?"), back)
	// authbff's callback sends the browser on to the callbackUrl.
	r, err = c.Get(back)
	require.NoError(t, err)
	require.Equal(t, http.StatusFound, r.Status)
	require.Equal(t, b.Base+"/goodbye", r.Header.Get("Location"))

	// The next sign-in is not silent: Keycloak shows its login form again.
	authURL, _, err := c.SignIn("keycloak", b.Base+"/", nil)
	require.NoError(t, err)
	page, err := c.Follow(authURL, b.Base, func(p authjsclient.Response, at string) (string, error) { return "", nil })
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(page, issuer), "a login page at Keycloak, not an SSO redirect: %s", page)
}

func TestCallbackRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.start("", nil)
	errorPage := b.Base + "/api/auth/error?error=Configuration"
	callbackError := b.Base + "/api/auth/signin?error=OAuthCallbackError"
	callbackPrefix := b.Base + "/api/auth/callback/"

	// login returns Keycloak's redirect to authbff's callback, undelivered.
	login := func(c *authjsclient.Client, callbackURL string) url.Values {
		authURL, _, err := c.SignIn("keycloak", callbackURL, nil)
		require.NoError(t, err)
		cb, err := c.KeycloakLogin(authURL, "bob", "bob", callbackPrefix)
		require.NoError(t, err)
		u, _ := url.Parse(cb)
		return u.Query()
	}
	deliver := func(c *authjsclient.Client, q url.Values) string {
		r, err := c.Get(callbackPrefix + "keycloak?" + q.Encode())
		require.NoError(t, err)
		require.Equal(t, http.StatusFound, r.Status)
		return r.Header.Get("Location")
	}

	t.Run("tampered state", func(t *testing.T) {
		c := authjsclient.New(b.Base)
		q := login(c, b.Base+"/")
		q.Set("state", q.Get("state")+"x")
		require.Equal(t, errorPage, deliver(c, q))
	})
	t.Run("replayed callback", func(t *testing.T) {
		c := authjsclient.New(b.Base)
		q := login(c, b.Base+"/")
		require.Equal(t, b.Base+"/", deliver(c, q))
		require.Equal(t, errorPage, deliver(c, q), "a login flow is consumed once")
	})
	t.Run("another browser's callback", func(t *testing.T) {
		victim, attacker := authjsclient.New(b.Base), authjsclient.New(b.Base)
		q := login(attacker, b.Base+"/")
		require.Equal(t, errorPage, deliver(victim, q), "state is bound to the browser that started the flow")
	})
	t.Run("code from another flow fails PKCE", func(t *testing.T) {
		c := authjsclient.New(b.Base)
		first := login(c, b.Base+"/")
		second := login(c, b.Base+"/") // SSO: a second code for a second flow
		mixed := url.Values{"state": {second.Get("state")}, "code": {first.Get("code")}, "iss": {second.Get("iss")},
			"session_state": {second.Get("session_state")}}
		require.Equal(t, callbackError, deliver(c, mixed))
	})
	t.Run("issuer mix-up", func(t *testing.T) {
		c := authjsclient.New(b.Base)
		q := login(c, b.Base+"/")
		q.Set("iss", "http://127.0.0.1:1/realms/evil")
		require.Equal(t, callbackError, deliver(c, q))
	})
	t.Run("missing iss", func(t *testing.T) {
		c := authjsclient.New(b.Base)
		q := login(c, b.Base+"/")
		q.Del("iss")
		require.Equal(t, callbackError, deliver(c, q), "Keycloak announces RFC 9207, so iss is required")
	})
	t.Run("foreign callbackUrl lands on the origin", func(t *testing.T) {
		c := authjsclient.New(b.Base)
		q := login(c, "https://evil.example.com/steal")
		require.Equal(t, b.Base, deliver(c, q))
	})
	t.Run("IdP error", func(t *testing.T) {
		c := authjsclient.New(b.Base)
		q := login(c, b.Base+"/")
		q.Del("code")
		q.Set("error", "access_denied")
		require.Equal(t, callbackError, deliver(c, q))
	})
	require.Equal(t, 0, e.count(`SELECT count(*) FROM sessions WHERE user_id IS NULL`))
}

// TestValidateChecksKeycloak: `authbff validate` checks discovery and that
// Keycloak accepts the client's credentials.
func TestValidateChecksKeycloak(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	out, err := e.command(nil, "validate").CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), `ok   client "web_app" authenticated by the identity provider`)

	out, err = e.command(map[string]string{"AUTH_KEYCLOAK_SECRET": "wrong"}, "validate").CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), "refused the client id or secret")
	require.NotContains(t, string(out), "wrong", "the secret is never printed")
}
