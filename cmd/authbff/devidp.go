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
		PostLogoutRedirectURIs: []string{origin, origin + "/", base + "/signin"},
	}, log)
	if err != nil {
		return keycloak.Config{}, err
	}
	lc.Append(fx.StopHook(func(ctx context.Context) error { return srv.Close(ctx) }))
	log.Warn("no Keycloak configured: serving the embedded development IdP (demo users alice, bob, carol)",
		"issuer", srv.Issuer())
	return keycloak.Config{Issuer: srv.Issuer(), ClientID: devClientID, ClientSecret: secret}, nil
}
