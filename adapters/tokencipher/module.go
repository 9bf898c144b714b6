package tokencipher

import (
	"go.uber.org/fx"

	"github.com/authbff/authbff/ports"
)

// Module provides the TokenCipher from the supplied secrets.
var Module = fx.Module("tokencipher",
	fx.Provide(fx.Annotate(NewTokenCipher, fx.As(new(ports.TokenCipher)))),
)
