package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/authbff/authbff/adapters/store"
)

// errNoDatabase is an operator command run where there is no authbff
// database, typically from another folder than the one `make run` uses.
var errNoDatabase = errors.New("no database")

// checkSQLiteExists refuses to let a read-only command create an empty
// SQLite file (and its folder) where none is: opening one creates it, and
// the command would then fail with "no such table".
func checkSQLiteExists(cfg Config) error {
	if cfg.Store.Dialect != store.SQLite {
		return nil
	}
	if _, err := os.Stat(cfg.Store.DSN); errors.Is(err, fs.ErrNotExist) {
		path, _ := filepath.Abs(cfg.Store.DSN)
		return fmt.Errorf("%w at %s: run `authbff migrate up` to create it, or run from the folder that holds it, "+
			"or set DATABASE_URL (or AUTH_DATA_DIR)", errNoDatabase, path)
	}
	return nil
}

// openMigrated opens the database for an operator command that reads or
// changes sessions: it must exist, answer, and carry authbff's schema.
func openMigrated(ctx context.Context, cfg Config) (*store.DB, error) {
	if err := checkSQLiteExists(cfg); err != nil {
		return nil, err
	}
	db, err := store.Open(cfg.Store)
	if err != nil {
		return nil, err
	}
	if err := db.Ping(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("database unreachable: %s", oneLine(err))
	}
	if err := store.VerifySchema(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("the %s database has no authbff schema yet (%s): run `authbff migrate up` first",
			cfg.Store.Dialect, oneLine(err))
	}
	return db, nil
}
