package main

import (
	"fmt"
	"io"

	"go.uber.org/fx"

	"github.com/authbff/authbff/adapters/store"
	"github.com/authbff/authbff/application"
	"github.com/authbff/authbff/ports"
)

// cliOptions is the graph the operator commands use: the database the
// command opened, the same stores and use-case constructors as serve, and no
// metrics (a one-shot command is never scraped).
func cliOptions(cfg Config, db *store.DB, logOut io.Writer) fx.Option {
	return fx.Options(
		fx.NopLogger,
		fx.Supply(db, newLogger(cfg, logOut), cfg.Policy, application.Clock(application.SystemClock)),
		fx.Supply(fx.Annotate(ports.NopObserver{}, fx.As(new(ports.Observer)))),
		store.Stores,
		useCases,
	)
}

// buildUseCase builds one use case, as serve would, for an operator command.
func buildUseCase[T any](cfg Config, db *store.DB, logOut io.Writer) (T, error) {
	var h T
	if err := fx.New(cliOptions(cfg, db, logOut), fx.Populate(&h)).Err(); err != nil {
		return h, fmt.Errorf("wiring: %w", err)
	}
	return h, nil
}
