package main

import (
	"context"
	"log/slog"

	"go.uber.org/fx"

	"github.com/authbff/authbff/adapters/devidp"
	"github.com/authbff/authbff/adapters/keycloak"
)

// devClientID is the embedded development IdP's client.
const devClientID = "authbff-dev"

// startDevIdP starts the embedded development OpenID provider on a loopback
// port and returns the Keycloak adapter's configuration for it. Only outside
// production (LoadConfig refuses a missing issuer in production).
func startDevIdP(lc fx.Lifecycle, cfg Config, log *slog.Logger) (keycloak.Config, error) {
	origin := cfg.HTTP.Origin()
	base := origin + cfg.HTTP.BasePath()
	secret := string(cfg.Secrets[0])
	srv, err := devidp.Start(devidp.Config{
		ListenAddr:             "127.0.0.1:0",
		ClientID:               devClientID,
		ClientSecret:           secret,
		RedirectURIs:           []string{base + "/callback/keycloak"},
		PostLogoutRedirectURIs: postLogoutURIs(cfg, base),
	}, log)
	if err != nil {
		return keycloak.Config{}, err
	}
	lc.Append(fx.StopHook(func(ctx context.Context) error { return srv.Close(ctx) }))
	log.Warn("no Keycloak configured: serving the embedded development IdP (demo users alice, bob, carol)",
		"issuer", srv.Issuer())
	// The provider id stays "keycloak" (apps call signIn("keycloak")); the
	// name on the sign-in button says who really serves.
	return keycloak.Config{Issuer: srv.Issuer(), ClientID: devClientID, ClientSecret: secret,
		DisplayName: devDisplayName}, nil
}

// devDisplayName is the embedded IdP's name on the sign-in page and in
// GET /providers.
const devDisplayName = "Development IdP (demo users)"

// postLogoutURIs are the URIs registered at the embedded IdP, as an
// operator registers them at Keycloak: authbff's own /signout/callback,
// and AUTH_POST_LOGOUT_REDIRECT_URL when set.
func postLogoutURIs(cfg Config, base string) []string {
	uris := []string{base + "/signout/callback"}
	if cfg.HTTP.PostLogoutRedirectURL != "" {
		uris = append(uris, cfg.HTTP.PostLogoutRedirectURL)
	}
	return uris
}
