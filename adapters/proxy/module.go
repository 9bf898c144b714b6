package proxy

import "go.uber.org/fx"

// Module provides the reverse proxy.
var Module = fx.Module("proxy", fx.Provide(New))
