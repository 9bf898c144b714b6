package devidp_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/authbff/authbff/adapters/devidp"
)

const (
	clientID       = "authbff-dev"
	clientSecret   = "dev-secret"
	redirectURI    = "http://127.0.0.1:4000/api/auth/callback/keycloak"
	postLogoutURI  = "http://127.0.0.1:4000/"
	scopesWithOrgs = "openid profile email organization:*"
)

// env is a running provider and a client configured against it.
type env struct {
	srv      *devidp.Server
	provider *oidc.Provider
	conf     oauth2.Config
	verifier *oidc.IDTokenVerifier
}

func start(t *testing.T) *env {
	t.Helper()
	return startWithSecret(t, clientSecret)
}

// startWithSecret starts a provider whose client has secret; "" makes it a
// public client.
func startWithSecret(t *testing.T, secret string) *env {
	t.Helper()
	srv, err := devidp.Start(devidp.Config{
		ClientID:               clientID,
		ClientSecret:           secret,
		RedirectURIs:           []string{redirectURI},
		PostLogoutRedirectURIs: []string{postLogoutURI},
	}, nil)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, srv.Close(ctx))
	})
	provider, err := oidc.NewProvider(t.Context(), srv.Issuer())
	require.NoError(t, err)
	return &env{
		srv:      srv,
		provider: provider,
		conf: oauth2.Config{
			ClientID:     clientID,
			ClientSecret: secret,
			Endpoint:     provider.Endpoint(),
			RedirectURL:  redirectURI,
			Scopes:       strings.Fields(scopesWithOrgs),
		},
		verifier: provider.Verifier(&oidc.Config{ClientID: clientID}),
	}
}

// login is one completed sign-in: the callback's query and what the client
// kept to redeem it.
type login struct {
	callback     url.Values
	state, nonce string
	pkceVerifier string
}

// browser returns a client with a cookie jar that follows redirects until
// one goes to the client's redirect URI.
func browser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), redirectURI) || strings.HasPrefix(req.URL.String(), postLogoutURI) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
}

var (
	formRe = regexp.MustCompile(`<form method="post" action="([^"]+)">`)
	idRe   = regexp.MustCompile(`<input type="hidden" name="authRequestID" value="([^"]+)">`)
)

func randomString(t *testing.T) string {
	t.Helper()
	b := make([]byte, 16)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return base64.RawURLEncoding.EncodeToString(b)
}

// signIn drives the authorization endpoint and the login page as username.
func (e *env) signIn(t *testing.T, username string, opts ...oauth2.AuthCodeOption) login {
	t.Helper()
	l := login{state: randomString(t), nonce: randomString(t), pkceVerifier: oauth2.GenerateVerifier()}
	opts = append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(l.pkceVerifier), oidc.Nonce(l.nonce)}, opts...)
	b := browser(t)

	resp, err := b.Get(e.conf.AuthCodeURL(l.state, opts...))
	require.NoError(t, err)
	page := readBody(t, resp)
	require.Equal(t, http.StatusOK, resp.StatusCode, page)
	require.Equal(t, e.srv.Issuer()+"/login", resp.Request.URL.Scheme+"://"+resp.Request.URL.Host+resp.Request.URL.Path)
	action := formRe.FindStringSubmatch(page)
	require.NotNil(t, action, page)
	require.Equal(t, "/login/select", action[1])
	id := idRe.FindStringSubmatch(page)
	require.NotNil(t, id, page)
	for _, u := range devidp.Users() {
		require.Contains(t, page, `<input type="hidden" name="username" value="`+u.Username+`">`)
	}

	resp, err = b.PostForm(e.srv.Issuer()+action[1], url.Values{"authRequestID": {id[1]}, "username": {username}})
	require.NoError(t, err)
	readBody(t, resp)
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, redirectURI, loc.Scheme+"://"+loc.Host+loc.Path)
	l.callback = loc.Query()
	return l
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

// exchange redeems a login's code and verifies the ID token and nonce.
func (e *env) exchange(t *testing.T, l login) (*oauth2.Token, *oidc.IDToken) {
	t.Helper()
	require.Equal(t, l.state, l.callback.Get("state"))
	require.Equal(t, e.srv.Issuer(), l.callback.Get("iss"))
	require.NotEmpty(t, l.callback.Get("code"))
	tok, err := e.conf.Exchange(t.Context(), l.callback.Get("code"), oauth2.VerifierOption(l.pkceVerifier))
	require.NoError(t, err)
	rawID, ok := tok.Extra("id_token").(string)
	require.True(t, ok)
	idToken, err := e.verifier.Verify(t.Context(), rawID)
	require.NoError(t, err)
	require.Equal(t, l.nonce, idToken.Nonce)
	return tok, idToken
}

// claimsOf returns the verified claims of a JWT issued by the provider.
func (e *env) claimsOf(t *testing.T, raw string) map[string]any {
	t.Helper()
	tok, err := e.verifier.Verify(t.Context(), raw)
	require.NoError(t, err)
	var claims map[string]any
	require.NoError(t, tok.Claims(&claims))
	return claims
}

func oauthErrorCode(t *testing.T, err error) string {
	t.Helper()
	var re *oauth2.RetrieveError
	require.True(t, errors.As(err, &re), "not an OAuth error: %v", err)
	return re.ErrorCode
}

func TestDiscovery(t *testing.T) {
	e := start(t)
	var meta struct {
		Issuer              string   `json:"issuer"`
		JWKSURI             string   `json:"jwks_uri"`
		EndSession          string   `json:"end_session_endpoint"`
		Userinfo            string   `json:"userinfo_endpoint"`
		CodeChallenge       []string `json:"code_challenge_methods_supported"`
		GrantTypes          []string `json:"grant_types_supported"`
		IssParamSupported   bool     `json:"authorization_response_iss_parameter_supported"`
		IDTokenSigningAlgos []string `json:"id_token_signing_alg_values_supported"`
	}
	require.NoError(t, e.provider.Claims(&meta))
	require.Equal(t, e.srv.Issuer(), meta.Issuer)
	require.True(t, strings.HasPrefix(e.srv.Issuer(), "http://127.0.0.1:"))
	require.Contains(t, meta.CodeChallenge, "S256")
	require.Contains(t, meta.GrantTypes, "refresh_token")
	require.Contains(t, meta.IDTokenSigningAlgos, "RS256")
	require.NotEmpty(t, meta.EndSession)
	require.NotEmpty(t, meta.Userinfo)
	require.True(t, meta.IssParamSupported)

	resp, err := http.Get(meta.JWKSURI)
	require.NoError(t, err)
	var jwks struct {
		Keys []map[string]any `json:"keys"`
	}
	require.NoError(t, json.Unmarshal([]byte(readBody(t, resp)), &jwks))
	require.Len(t, jwks.Keys, 1)
	require.Equal(t, "RSA", jwks.Keys[0]["kty"])
	require.Equal(t, "RS256", jwks.Keys[0]["alg"])
	require.NotEmpty(t, jwks.Keys[0]["kid"])
}

// jsonValue round-trips v through JSON, so it compares equal to decoded
// claims.
func jsonValue(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	var out any
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}
