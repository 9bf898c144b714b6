package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"syscall"

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
	if err := checkListenAddr(cfg.HTTP.ListenAddr); err != nil {
		return err
	}
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
	announce(cfg, log, logOut)
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

// checkListenAddr tries the listen address before anything starts, so a busy
// port is one line that names the variables to change, not fx's rollback of
// everything it had started.
func checkListenAddr(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		return ln.Close()
	}
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("cannot listen on %s: the address is already in use (another authbff?); "+
			"stop that process or set LISTEN_ADDR or PORT to a free port, e.g. PORT=4001", addr)
	}
	return fmt.Errorf("cannot listen on %s (LISTEN_ADDR or PORT): %s", addr, oneLine(err))
}

// announce says where to sign in once the server is up: a log line, and
// outside production a plain line for the person who typed `make run`. The
// callback shows the new session, so the first sign-in ends somewhere useful.
func announce(cfg Config, log *slog.Logger, out io.Writer) {
	base := cfg.HTTP.Origin() + cfg.HTTP.BasePath()
	signIn := base + "/signin?callbackUrl=" + url.QueryEscape(base+"/session")
	log.Info("serving", "listen_addr", cfg.HTTP.ListenAddr, "sign_in_url", signIn)
	if !cfg.Production {
		fmt.Fprintf(out, "\nauthbff is serving on %s\nsign in at %s\n\n", cfg.HTTP.Origin(), signIn)
	}
}
