package keycloak

import (
	"go.uber.org/fx"

	"github.com/authbff/authbff/ports"
)

// Module provides the identity provider (discovery runs in the constructor,
// so a wrong issuer fails start-up) and its organization directory.
var Module = fx.Module("keycloak",
	fx.Provide(
		New,
		NewHealth,
		func(p *Provider) ports.IdentityProvider { return p },
		newDirectory,
		func(d *Directory) ports.OrganizationDirectory { return d },
	),
)
