package httpapi

import (
	"go.uber.org/fx"
)

// Module provides the router and the server and attaches the server to the
// fx lifecycle. This Invoke is the only one in the app: it is what makes fx
// build the graph.
var Module = fx.Module("httpapi",
	fx.Provide(NewRouter, NewServer),
	fx.Invoke(func(lc fx.Lifecycle, s *Server) {
		lc.Append(fx.StartStopHook(s.Start, s.Stop))
	}),
)
