package store

import (
	"context"
	"log/slog"

	"go.uber.org/fx"

	"github.com/authbff/authbff/ports"
)

// Module provides the database (closed on stop) and its pool, the migrator,
// every store bound to its port, and the database health check, and starts
// the session cache's change listener.
var Module = fx.Module("store",
	fx.Provide(
		fx.Annotate(OpenLogged, fx.OnStop(func(_ context.Context, db *DB) error { return db.Close() })),
		(*DB).SQL,
		NewMigrator,
		NewHealth,
	),
	Stores,
	fx.Invoke(func(lc fx.Lifecycle, db *DB, log *slog.Logger) {
		lc.Append(fx.StartHook(func() { db.StartChangeListener(log) }))
	}),
)

// Stores binds every store on a *DB to its port. The operator commands
// supply a database they opened themselves and reuse these.
var Stores = fx.Provide(
	fx.Annotate(NewSessionStore, fx.As(new(ports.SessionStore)), fx.As(new(ports.SessionRevoker))),
	fx.Annotate(NewSessionMaintenance, fx.As(new(ports.SessionMaintenance))),
	fx.Annotate(NewUserStore, fx.As(new(ports.UserStore))),
	fx.Annotate(NewLoginFlowStore, fx.As(new(ports.LoginFlowStore))),
	fx.Annotate(NewVerificationTokenStore, fx.As(new(ports.VerificationTokenStore))),
)
