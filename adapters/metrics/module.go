package metrics

import (
	"go.uber.org/fx"

	"github.com/authbff/authbff/ports"
)

// Module provides the metrics, binds them as the application's observer and
// names their /metrics handler.
var Module = fx.Module("metrics",
	fx.Provide(
		fx.Annotate(New, fx.As(fx.Self()), fx.As(new(ports.Observer))),
		fx.Annotate((*Metrics).Handler, fx.ResultTags(`name:"metrics"`)),
	),
)
