package devidp_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/adapters/devidp"
)

func jwtHeader(t *testing.T, raw string) map[string]any {
	t.Helper()
	seg, err := base64.RawURLEncoding.DecodeString(strings.SplitN(raw, ".", 2)[0])
	require.NoError(t, err)
	var h map[string]any
	require.NoError(t, json.Unmarshal(seg, &h))
	return h
}

func audience(claims map[string]any) []any {
	switch aud := claims["aud"].(type) {
	case string:
		return []any{aud}
	case []any:
		return aud
	}
	return nil
}

func TestSignInIssuesKeycloakShapedTokens(t *testing.T) {
	e := start(t)
	orgs := map[string]devidp.DemoOrganization{}
	for _, o := range devidp.Organizations() {
		orgs[o.Alias] = o
	}
	tests := []struct {
		username     string
		clientRoles  any
		organization any
	}{
		{
			username:     "alice",
			clientRoles:  map[string]any{clientID: map[string]any{"roles": []string{"reports-viewer"}}},
			organization: map[string]any{"acme": map[string]any{"id": orgs["acme"].ID, "tenant_id": []string{"tenant-acme"}}},
		},
		{
			username: "bob",
			organization: map[string]any{
				"acme":   map[string]any{"id": orgs["acme"].ID, "tenant_id": []string{"tenant-acme"}},
				"globex": map[string]any{"id": orgs["globex"].ID},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.username, func(t *testing.T) {
			var u devidp.DemoUser
			for _, cand := range devidp.Users() {
				if cand.Username == tc.username {
					u = cand
				}
			}
			require.NotEmpty(t, u.ID)

			l := e.signIn(t, tc.username)
			tok, idToken := e.exchange(t, l)
			require.Equal(t, u.ID, idToken.Subject)
			require.Equal(t, "Bearer", tok.TokenType)
			require.WithinDuration(t, time.Now().Add(devidp.AccessTokenLifespan), tok.Expiry, 10*time.Second)
			require.NotEmpty(t, tok.RefreshToken)
			require.InDelta(t, devidp.RefreshTokenLifespan.Seconds(), tok.Extra("refresh_expires_in"), 10)
			require.Equal(t, scopesWithOrgs, tok.Extra("scope"))

			idClaims := e.claimsOf(t, tok.Extra("id_token").(string))
			atClaims := e.claimsOf(t, tok.AccessToken)
			t.Logf("%s ID token claims: %s", tc.username, jsonString(t, idClaims))
			t.Logf("%s access token claims: %s", tc.username, jsonString(t, atClaims))

			sid, _ := idClaims["sid"].(string)
			require.NotEmpty(t, sid)
			require.Equal(t, sid, tok.Extra("session_state"))
			require.Equal(t, l.nonce, idClaims["nonce"])
			require.Equal(t, "ID", idClaims["typ"])
			require.Equal(t, "Bearer", atClaims["typ"])
			require.Equal(t, scopesWithOrgs, atClaims["scope"])
			require.Equal(t, atClaims["exp"].(float64)-atClaims["iat"].(float64), devidp.AccessTokenLifespan.Seconds())

			for name, claims := range map[string]map[string]any{"id token": idClaims, "access token": atClaims} {
				require.Equal(t, e.srv.Issuer(), claims["iss"], name)
				require.Equal(t, u.ID, claims["sub"], name)
				require.Contains(t, audience(claims), clientID, name)
				require.Equal(t, clientID, claims["azp"], name)
				require.Equal(t, sid, claims["sid"], name)
				require.IsType(t, float64(0), claims["exp"], name)
				require.IsType(t, float64(0), claims["iat"], name)
				require.Equal(t, u.Email, claims["email"], name)
				require.Equal(t, true, claims["email_verified"], name)
				require.Equal(t, u.Name, claims["name"], name)
				require.Equal(t, u.Username, claims["preferred_username"], name)
				require.Equal(t, u.GivenName, claims["given_name"], name)
				require.Equal(t, u.FamilyName, claims["family_name"], name)
				require.Equal(t, jsonValue(t, map[string]any{"roles": u.RealmRoles}), claims["realm_access"], name)
				if tc.clientRoles == nil {
					require.NotContains(t, claims, "resource_access", name)
				} else {
					require.Equal(t, jsonValue(t, tc.clientRoles), claims["resource_access"], name)
				}
				require.Equal(t, jsonValue(t, tc.organization), claims["organization"], name)
			}

			for _, raw := range []string{tok.AccessToken, tok.Extra("id_token").(string)} {
				h := jwtHeader(t, raw)
				require.Equal(t, "RS256", h["alg"])
				require.NotEmpty(t, h["kid"])
			}
		})
	}
}

func jsonString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	require.NoError(t, err)
	return string(b)
}

func TestOrganizationClaimFollowsScope(t *testing.T) {
	e := start(t)

	// Without an organization scope there is no organization claim, as in Keycloak.
	plain := *e
	plain.conf.Scopes = []string{"openid", "profile", "email"}
	tok, _ := plain.exchange(t, plain.signIn(t, "bob"))
	require.NotContains(t, e.claimsOf(t, tok.AccessToken), "organization")
	require.Equal(t, "openid profile email", tok.Extra("scope"))

	// organization:<alias> selects one organization.
	one := *e
	one.conf.Scopes = []string{"openid", "organization:globex"}
	tok, _ = one.exchange(t, one.signIn(t, "bob"))
	require.Equal(t, []string{"globex"}, keys(e.claimsOf(t, tok.AccessToken)["organization"]))

	// carol has no organization, no client role and an unverified email.
	tok, _ = e.exchange(t, e.signIn(t, "carol"))
	for _, raw := range []string{tok.AccessToken, tok.Extra("id_token").(string)} {
		claims := e.claimsOf(t, raw)
		require.NotContains(t, claims, "organization")
		require.NotContains(t, claims, "resource_access")
		require.Equal(t, false, claims["email_verified"])
		require.Equal(t, "Carol NoOrg", claims["name"])
	}
}

func keys(v any) []string {
	m, _ := v.(map[string]any)
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
