// Package migrations embeds authbff's SQL migrations, one folder per dialect
// (postgres for production, sqlite for the embedded default), in bun/migrate's
// file naming: <timestamp>_<name>.tx.up.sql runs in a transaction.
//
// Import rule: bun/migrate and embed only. The store adapter runs them under a
// lock; nothing reads them from the source tree at run time.
package migrations

import (
	"embed"
	"fmt"
	"io/fs"

	"github.com/uptrace/bun/migrate"
)

//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// For returns the migrations of a dialect: "postgres" or "sqlite".
func For(dialect string) (*migrate.Migrations, error) {
	sub, err := fs.Sub(files, dialect)
	if err != nil {
		return nil, fmt.Errorf("migrations for %q: %w", dialect, err)
	}
	m := migrate.NewMigrations()
	if err := m.Discover(sub); err != nil {
		return nil, fmt.Errorf("migrations for %q: %w", dialect, err)
	}
	if len(m.Sorted()) == 0 {
		return nil, fmt.Errorf("no migrations for dialect %q", dialect)
	}
	return m, nil
}
