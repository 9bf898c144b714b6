// Package devidp is authbff's embedded development OpenID provider.
//
// With no Keycloak configured and production mode off, authbff starts it on
// loopback so that sign-in works on a fresh machine. The BFF's Keycloak
// adapter talks to it over HTTP exactly as to Keycloak: discovery, JWKS,
// authorization code with PKCE, refresh, userinfo and RP-initiated logout.
// The protocol is github.com/zitadel/oidc/v3/pkg/op; this package supplies
// its in-memory storage, a login page, demo users and the few Keycloak
// habits the library lacks (compat.go).
//
// It is for development only: there are no passwords, the signing key is
// generated at start and all state lives in memory. Start refuses any
// listen address that is not loopback.
//
// # Endpoints
//
// Relative to Server.Issuer: /.well-known/openid-configuration, /keys
// (JWKS), /authorize, /oauth/token, /userinfo, /end_session, /revoke and
// /oauth/introspect, plus the login UI below. Discovery announces
// authorization_response_iss_parameter_supported, and every redirect to the
// client's redirect URI (success or error) carries `iss` (RFC 9207).
//
// # Login page
//
// The authorization endpoint redirects the browser to
//
//	GET /login?authRequestID=<id>
//
// which lists the demo users (see Users), one form each:
//
//	<form method="post" action="/login/select">
//	<input type="hidden" name="authRequestID" value="<id>">
//	<input type="hidden" name="username" value="alice">
//	<button type="submit" id="login-alice">...</button>
//	</form>
//
// An automated client posts authRequestID and username
// (application/x-www-form-urlencoded) to /login/select. The answer is a 303
// to /authorize/callback?id=<id>, which answers with a 302 to the client's
// redirect URI carrying code, state and iss. No cookies are involved; the
// provider keeps no browser session, so every authorization shows the page
// again (and prompt=none fails with login_required).
//
// # Client rules
//
// The one client is Config.ClientID. It must use response_type=code with
// PKCE S256 (a missing or plain challenge is refused with invalid_request
// at the authorization step), an exactly registered redirect URI, and
// client_secret_basic or client_secret_post when it has a secret. A code
// works once, within a minute; a failed exchange spends it.
//
// # Tokens
//
// Access tokens are RS256 JWTs (kid set) valid AccessTokenLifespan; ID
// tokens have the same lifetime. Both carry, Keycloak-shaped:
//
//	iss, sub (the user's fixed UUID), aud ([client id]), azp (client id),
//	sid (new per login, same in both tokens), exp, iat, auth_time, acr ("1"),
//	typ ("Bearer" or "ID"), email, email_verified, name, preferred_username,
//	given_name, family_name,
//	realm_access {"roles": [...]},
//	resource_access {"<client id>": {"roles": [...]}} (only for users with client roles),
//	organization {"acme": {"id": "<uuid>", "tenant_id": ["tenant-acme"]}, "globex": {"id": "<uuid>"}}
//
// The ID token adds nonce, amr, at_hash and c_hash; the access token adds
// jti, nbf and scope. The library also sets client_id in both. As in
// Keycloak, organization appears only when the client asks for an
// organization scope: "organization:*" or "organization" for all of the
// user's organizations, "organization:<alias>" for one.
//
// Every code exchange returns a refresh token (opaque, valid
// RefreshTokenLifespan) and the token response carries Keycloak's
// refresh_expires_in, session_state (the sid) and not-before-policy. A
// refresh returns a new access token, ID token and refresh token; the old
// refresh token is refused from then on, and presenting it again ends the
// session so the newest token is refused too (Keycloak's strict rotation).
// RP-initiated logout with id_token_hint ends that token's session and
// redirects to a registered post_logout_redirect_uri (state echoed); an
// unregistered one is refused with 400. A hint this run cannot verify (from
// before a restart: the key is new each start) is treated as absent, so
// sign-out still returns to the app. Back-channel logout is not sent.
package devidp
