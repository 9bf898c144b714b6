package metrics

import (
	"go.uber.org/fx"

	"github.com/authbff/authbff/ports"
)

// Module provides the metrics and binds them as the application's observer.
var Module = fx.Module("metrics",
	fx.Provide(
		New,
		func(m *Metrics) ports.Observer { return m },
	),
)
