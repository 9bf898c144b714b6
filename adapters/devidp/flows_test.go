package devidp_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/authbff/authbff/adapters/devidp"
)

func TestWrongPKCEVerifierIsRefused(t *testing.T) {
	e := start(t)
	l := e.signIn(t, "alice")

	_, err := e.conf.Exchange(t.Context(), l.callback.Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier()))
	require.Error(t, err)
	require.Equal(t, "invalid_grant", oauthErrorCode(t, err))

	// The code is spent by the failed attempt, as in Keycloak.
	_, err = e.conf.Exchange(t.Context(), l.callback.Get("code"), oauth2.VerifierOption(l.pkceVerifier))
	require.Error(t, err)
	require.Equal(t, "invalid_grant", oauthErrorCode(t, err))

	// No verifier at all is refused too.
	l = e.signIn(t, "alice")
	_, err = e.conf.Exchange(t.Context(), l.callback.Get("code"))
	require.Error(t, err)
}

func TestClientSecretIsChecked(t *testing.T) {
	e := start(t)
	l := e.signIn(t, "alice")
	e.conf.ClientSecret = "wrong"
	e.conf.Endpoint.AuthStyle = oauth2.AuthStyleInHeader // no retry with the other style
	_, err := e.conf.Exchange(t.Context(), l.callback.Get("code"), oauth2.VerifierOption(l.pkceVerifier))
	require.Error(t, err)
	require.Equal(t, "invalid_client", oauthErrorCode(t, err))
}

func TestPublicClientSignsInWithPKCE(t *testing.T) {
	e := startWithSecret(t, "")
	tok, idToken := e.exchange(t, e.signIn(t, "bob"))
	require.Equal(t, devidp.Users()[1].ID, idToken.Subject)
	require.NotEmpty(t, tok.RefreshToken)
}

func TestAuthorizeRequiresPKCES256(t *testing.T) {
	e := start(t)
	for name, opts := range map[string][]oauth2.AuthCodeOption{
		"no challenge": nil,
		"plain":        {oauth2.SetAuthURLParam("code_challenge", "abc"), oauth2.SetAuthURLParam("code_challenge_method", "plain")},
	} {
		t.Run(name, func(t *testing.T) {
			resp, err := browser(t).Get(e.conf.AuthCodeURL("st", opts...))
			require.NoError(t, err)
			readBody(t, resp)
			require.Equal(t, http.StatusFound, resp.StatusCode)
			loc, err := url.Parse(resp.Header.Get("Location"))
			require.NoError(t, err)
			require.Equal(t, "invalid_request", loc.Query().Get("error"))
			require.Equal(t, "st", loc.Query().Get("state"))
			require.Equal(t, e.srv.Issuer(), loc.Query().Get("iss"))
		})
	}
}

func TestUnregisteredRedirectURIIsRefused(t *testing.T) {
	e := start(t)
	conf := e.conf
	conf.RedirectURL = "http://127.0.0.1:4000/api/auth/callback/evil"
	resp, err := browser(t).Get(conf.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	require.NoError(t, err)
	readBody(t, resp)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Empty(t, resp.Header.Get("Location"))
}

func TestRefreshRotatesTheRefreshToken(t *testing.T) {
	e := start(t)
	l := e.signIn(t, "bob")
	first, idToken := e.exchange(t, l)
	sid := e.claimsOf(t, first.AccessToken)["sid"]

	refresh := func(rt string) (*oauth2.Token, error) {
		return e.conf.TokenSource(t.Context(), &oauth2.Token{RefreshToken: rt, Expiry: time.Now().Add(-time.Minute)}).Token()
	}
	second, err := refresh(first.RefreshToken)
	require.NoError(t, err)
	require.NotEqual(t, first.RefreshToken, second.RefreshToken)
	require.NotEqual(t, first.AccessToken, second.AccessToken)
	require.Equal(t, sid, second.Extra("session_state"))
	require.Equal(t, scopesWithOrgs, second.Extra("scope"))

	// A refresh returns a new ID token for the same user and session.
	rawID, ok := second.Extra("id_token").(string)
	require.True(t, ok)
	refreshedID, err := e.verifier.Verify(t.Context(), rawID)
	require.NoError(t, err)
	require.Equal(t, idToken.Subject, refreshedID.Subject)
	idClaims := e.claimsOf(t, rawID)
	require.Equal(t, sid, idClaims["sid"])
	require.Contains(t, idClaims, "organization")
	atClaims := e.claimsOf(t, second.AccessToken)
	require.Equal(t, sid, atClaims["sid"])
	require.Equal(t, jsonValue(t, map[string]any{"roles": []string{"user"}}), atClaims["realm_access"])

	third, err := refresh(second.RefreshToken)
	require.NoError(t, err)

	// The rotated-out token is refused, and its reuse ends the session, so
	// the newest token dies too (Keycloak with revokeRefreshToken=true).
	_, err = refresh(first.RefreshToken)
	require.Error(t, err)
	require.Equal(t, "invalid_grant", oauthErrorCode(t, err))
	_, err = refresh(third.RefreshToken)
	require.Error(t, err)
	require.Equal(t, "invalid_grant", oauthErrorCode(t, err))
}

func TestEndSession(t *testing.T) {
	e := start(t)
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	require.NoError(t, e.provider.Claims(&meta))
	tok, _ := e.exchange(t, e.signIn(t, "alice"))
	idToken := tok.Extra("id_token").(string)

	logout := func(params url.Values) *http.Response {
		resp, err := browser(t).Get(meta.EndSession + "?" + params.Encode())
		require.NoError(t, err)
		readBody(t, resp)
		return resp
	}

	// An unregistered post-logout URI is refused and the session survives.
	resp := logout(url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {"http://127.0.0.1:4000/evil"}})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Empty(t, resp.Header.Get("Location"))

	// A post-logout URI without id_token_hint or client_id is refused.
	resp = logout(url.Values{"post_logout_redirect_uri": {postLogoutURI}})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)

	alive, err := e.conf.TokenSource(t.Context(), &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Minute)}).Token()
	require.NoError(t, err)

	// With id_token_hint and a registered URI it redirects back, state echoed.
	resp = logout(url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {postLogoutURI}, "state": {"bye"}})
	require.Equal(t, http.StatusFound, resp.StatusCode)
	require.Equal(t, postLogoutURI+"?state=bye", resp.Header.Get("Location"))

	// The session is over: its refresh token is refused.
	_, err = e.conf.TokenSource(t.Context(), &oauth2.Token{RefreshToken: alive.RefreshToken, Expiry: time.Now().Add(-time.Minute)}).Token()
	require.Error(t, err)
	require.Equal(t, "invalid_grant", oauthErrorCode(t, err))

	// A hint this run cannot verify (signed by an earlier run's key) still
	// returns to the registered URI, as after a restart in development.
	earlier := start(t)
	stale, _ := earlier.exchange(t, earlier.signIn(t, "alice"))
	resp = logout(url.Values{"id_token_hint": {stale.Extra("id_token").(string)}, "post_logout_redirect_uri": {postLogoutURI}})
	require.Equal(t, http.StatusFound, resp.StatusCode)
	require.Equal(t, postLogoutURI, resp.Header.Get("Location"))
	resp = logout(url.Values{"id_token_hint": {stale.Extra("id_token").(string)}, "post_logout_redirect_uri": {"http://127.0.0.1:4000/evil"}})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

func TestUserinfo(t *testing.T) {
	e := start(t)
	tok, _ := e.exchange(t, e.signIn(t, "alice"))
	info, err := e.provider.UserInfo(t.Context(), oauth2.StaticTokenSource(tok))
	require.NoError(t, err)
	require.Equal(t, devidp.Users()[0].ID, info.Subject)
	require.Equal(t, "alice@example.com", info.Email)
	require.True(t, info.EmailVerified)
	var claims map[string]any
	require.NoError(t, info.Claims(&claims))
	require.Equal(t, "alice", claims["preferred_username"])
	require.Equal(t, jsonValue(t, map[string]any{"roles": []string{"admin", "user"}}), claims["realm_access"])
}

func TestLoginPageRefusesUnknownRequest(t *testing.T) {
	e := start(t)
	resp, err := http.PostForm(e.srv.Issuer()+"/login/select", url.Values{"authRequestID": {"nope"}, "username": {"alice"}})
	require.NoError(t, err)
	readBody(t, resp)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

func TestStartValidatesConfig(t *testing.T) {
	valid := devidp.Config{ClientID: clientID, RedirectURIs: []string{redirectURI}}
	for name, mutate := range map[string]func(*devidp.Config){
		"not loopback":      func(c *devidp.Config) { c.ListenAddr = "0.0.0.0:0" },
		"all interfaces":    func(c *devidp.Config) { c.ListenAddr = ":0" },
		"no client id":      func(c *devidp.Config) { c.ClientID = "" },
		"no redirect URI":   func(c *devidp.Config) { c.RedirectURIs = nil },
		"relative redirect": func(c *devidp.Config) { c.RedirectURIs = []string{"/callback"} },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := valid
			mutate(&cfg)
			srv, err := devidp.Start(cfg, nil)
			require.Error(t, err)
			require.Nil(t, srv)
		})
	}
}

func TestUsersAreCopies(t *testing.T) {
	users := devidp.Users()
	require.Len(t, users, 3)
	users[0].RealmRoles[0] = "changed"
	require.Equal(t, "admin", devidp.Users()[0].RealmRoles[0])
	b, err := json.Marshal(devidp.Organizations())
	require.NoError(t, err)
	require.Contains(t, string(b), "tenant-acme")
}
