package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/test/authjsclient"
)

// TestAdminLogoutAtKeycloakEndsTheSessionAtOnce is docs/security.md R5 with the
// real Keycloak: an admin logs alice out through Keycloak's admin REST API;
// Keycloak POSTs a logout token to authbff's back-channel endpoint before its
// call returns, so by then her row is gone and her cookie gets null.
//
// Not parallel, on purpose: Keycloak's "log out user" sends ONE logout token
// even when the user has several Keycloak sessions (test/keycloak/NOTES.md
// §6), carrying one of their sids. The test therefore first clears alice's
// stale Keycloak sessions, and runs while no parallel test signs her in.
func TestAdminLogoutAtKeycloakEndsTheSessionAtOnce(t *testing.T) {
	e := newEnv(t)
	b := e.startFixed(nil)
	kc := newKCAdmin(t)
	status, body := kc.do(http.MethodPost, "/users/"+kc.userID("alice")+"/logout", nil)
	require.Equal(t, http.StatusNoContent, status, string(body))

	alice := authjsclient.New(b.Base)
	_, err := alice.SignInKeycloak("alice", "alice", b.Base+"/")
	require.NoError(t, err)
	bob := authjsclient.New(b.Base)
	_, err = bob.SignInKeycloak("bob", "bob", b.Base+"/")
	require.NoError(t, err)
	require.Equal(t, 2, e.count(`SELECT count(*) FROM sessions`))

	status, body = kc.do(http.MethodPost, "/users/"+kc.userID("alice")+"/logout", nil)
	require.Equal(t, http.StatusNoContent, status, string(body))

	// No waiting: the deletion happened inside Keycloak's call.
	require.Equal(t, 0, e.count(`SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = 'alice@example.com'`))
	s, _, err := alice.Session()
	require.NoError(t, err)
	require.Nil(t, s, "alice's cookie resolves to no session")
	s, _, err = bob.Session()
	require.NoError(t, err)
	require.NotNil(t, s, "bob is untouched")
	require.Contains(t, b.logs.String(), `"msg":"back-channel logout"`)
}

// TestBackchannelRefusesForgedTokens: anything but a token signed by the
// realm is answered 400 and ends nothing.
func TestBackchannelRefusesForgedTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.start("", nil)
	c := authjsclient.New(b.Base)
	_, err := c.SignInKeycloak("bob", "bob", b.Base+"/")
	require.NoError(t, err)

	post := func(form url.Values) (int, http.Header) {
		resp, err := http.PostForm(b.Base+"/api/auth/backchannel-logout", form)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode, resp.Header
	}
	// An unsigned token claiming bob's subject.
	unsigned := "eyJhbGciOiJub25lIiwidHlwIjoibG9nb3V0K2p3dCJ9." +
		"eyJpc3MiOiJodHRwOi8vMTI3LjAuMC4xL3JlYWxtcy9jcm0iLCJzdWIiOiJiMGIwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMDIiLCJhdWQiOiJ3ZWJfYXBwIiwiZXZlbnRzIjp7Imh0dHA6Ly9zY2hlbWFzLm9wZW5pZC5uZXQvZXZlbnQvYmFja2NoYW5uZWwtbG9nb3V0Ijp7fX19."
	for name, form := range map[string]url.Values{
		"no token":            {},
		"empty token":         {"logout_token": {""}},
		"two tokens":          {"logout_token": {"a", "b"}},
		"garbage":             {"logout_token": {"not-a-jwt"}},
		"unsigned (alg none)": {"logout_token": {unsigned}},
		"huge":                {"logout_token": {strings.Repeat("a.", 40000)}},
	} {
		status, h := post(form)
		want := http.StatusBadRequest
		if name == "huge" {
			want = http.StatusRequestEntityTooLarge // over the 64 KiB body bound
		}
		require.Equal(t, want, status, name)
		require.Equal(t, "no-store", h.Get("Cache-Control"), name)
	}
	require.Equal(t, 1, e.count(`SELECT count(*) FROM sessions`), "nothing was ended")
}
