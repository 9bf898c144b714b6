package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/authbff/authbff/adapters/store"
)

// migrateCmd is `authbff migrate up|down|status` (the db:migrate script).
func migrateCmd(ctx context.Context, cfg Config, args []string, out io.Writer) error {
	if len(args) == 0 {
		return exitCode{2, fmt.Errorf("migrate: want up, down or status")}
	}
	db, m, err := openMigrator(cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	switch args[0] {
	case "up":
		names, err := m.Up(ctx)
		if err != nil {
			return fmt.Errorf("migrate up: %w", err)
		}
		if len(names) == 0 {
			fmt.Fprintln(out, "nothing to apply: database is up to date")
		}
		for _, n := range names {
			fmt.Fprintln(out, "applied", n)
		}
	case "down":
		fs := flag.NewFlagSet("migrate down", flag.ContinueOnError)
		all := fs.Bool("all", false, "roll back every migration")
		if err := fs.Parse(args[1:]); err != nil {
			return exitCode{2, err}
		}
		names, err := m.Down(ctx, *all)
		if err != nil {
			return fmt.Errorf("migrate down: %w", err)
		}
		if len(names) == 0 {
			fmt.Fprintln(out, "nothing to roll back")
		}
		for _, n := range names {
			fmt.Fprintln(out, "rolled back", n)
		}
	case "status":
		st, err := m.Status(ctx)
		if err != nil {
			return fmt.Errorf("migrate status: %w", err)
		}
		pending := 0
		for _, s := range st {
			state := "applied " + s.AppliedAt.UTC().Format("2006-01-02 15:04:05Z")
			if !s.Applied {
				state, pending = "pending", pending+1
			}
			fmt.Fprintf(out, "%-40s %s\n", s.Name, state)
		}
		fmt.Fprintf(out, "%d migration(s), %d applied, %d pending\n", len(st), len(st)-pending, pending)
	default:
		return exitCode{2, fmt.Errorf("migrate: unknown subcommand %q (want up, down or status)", args[0])}
	}
	return nil
}

func openMigrator(cfg Config) (*store.DB, *store.Migrator, error) {
	db, err := store.Open(cfg.Store)
	if err != nil {
		return nil, nil, err
	}
	m, err := store.NewMigrator(db)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, m, nil
}
