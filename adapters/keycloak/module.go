package keycloak

import (
	"go.uber.org/fx"

	"github.com/authbff/authbff/ports"
)

// Module provides the identity provider (discovery runs in the constructor,
// so a wrong issuer fails start-up) and its organization directory, bound to
// the ports they implement.
var Module = fx.Module("keycloak",
	fx.Provide(
		fx.Annotate(New, fx.As(fx.Self()), fx.As(new(ports.IdentityProvider)), fx.As(new(ports.LogoutTokenVerifier))),
		NewHealth,
		fx.Annotate(newDirectory, fx.As(new(ports.OrganizationDirectory))),
	),
)
