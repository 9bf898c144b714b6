package main

import (
	"io"
	"log/slog"
	"time"

	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"

	"github.com/authbff/authbff/adapters/httpapi"
	"github.com/authbff/authbff/adapters/store"
	"github.com/authbff/authbff/application"
	"github.com/authbff/authbff/ports"
)

// appOptions is the whole server, as a table of contents: configuration,
// adapters, use cases. `serve` runs it; a test validates the same graph.
func appOptions(cfg Config, logOut io.Writer) fx.Option {
	log := newLogger(cfg, logOut)
	return fx.Options(
		fx.WithLogger(func() fxevent.Logger {
			l := &fxevent.SlogLogger{Logger: log}
			l.UseLogLevel(slog.LevelDebug)
			return l
		}),
		fx.Supply(log, cfg.Store, cfg.HTTP, cfg.Policy),
		fx.Supply(application.Clock(application.SystemClock)),

		store.Module,
		httpapi.Module,

		fx.Provide(
			readinessChecks,
			func(checks []ports.HealthCheck) *application.CheckReadinessHandler {
				return application.NewCheckReadinessHandler(checks, 3*time.Second)
			},
			application.NewCleanupSessionsHandler,
			application.NewSessionStatsHandler,
			func(ready *application.CheckReadinessHandler) httpapi.Handlers {
				return httpapi.Handlers{Readiness: ready}
			},
		),
	)
}

// readinessChecks lists what /readyz checks.
func readinessChecks(db *store.Health) []ports.HealthCheck {
	return []ports.HealthCheck{db}
}
