package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"go.uber.org/fx"

	"github.com/authbff/authbff/adapters/store"
)

// serve runs the HTTP server until ctx ends (SIGINT/SIGTERM), then shuts down
// gracefully.
func serve(ctx context.Context, cfg Config, args []string, logOut io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	migrate := fs.Bool("migrate", cfg.MigrateOnStart, "apply pending migrations before serving")
	if err := fs.Parse(args); err != nil {
		return exitCode{2, err}
	}
	log := newLogger(cfg, logOut)
	if cfg.GeneratedSecret {
		log.Warn("AUTH_SECRET is not set: using a generated development secret kept in the data folder; set AUTH_SECRET in production",
			"data_dir", cfg.DataDir)
	}
	if cfg.Store.Dialect == store.SQLite {
		log.Warn("DATABASE_URL is not set: using the embedded SQLite database", "path", cfg.Store.DSN)
	}
	if *migrate {
		if err := migrateUp(ctx, cfg, log); err != nil {
			return err
		}
	}
	app := fx.New(appOptions(cfg, logOut))
	if err := app.Err(); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	startCtx, cancel := context.WithTimeout(ctx, app.StartTimeout())
	defer cancel()
	if err := app.Start(startCtx); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	<-ctx.Done()
	log.Info("shutting down")
	stopCtx, cancel2 := context.WithTimeout(context.Background(), app.StopTimeout())
	defer cancel2()
	return app.Stop(stopCtx)
}

func migrateUp(ctx context.Context, cfg Config, log *slog.Logger) error {
	db, err := store.Open(cfg.Store)
	if err != nil {
		return err
	}
	defer db.Close()
	m, err := store.NewMigrator(db)
	if err != nil {
		return err
	}
	applied, err := m.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if len(applied) > 0 {
		log.Info("migrations applied", "names", applied)
	}
	return nil
}
