package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun/migrate"

	"github.com/authbff/authbff/migrations"
)

// migrationLockKey is the PostgreSQL advisory lock that serialises migration
// runs across processes ("authbff" in ASCII, as a number).
const migrationLockKey = 0x61757468626666

// MigrationStatus is one migration and whether it is applied.
type MigrationStatus struct {
	Name      string
	Applied   bool
	AppliedAt time.Time
}

// Migrator applies the embedded migrations of the database's dialect.
type Migrator struct {
	db *DB
	m  *migrate.Migrator
}

// NewMigrator returns a Migrator for db.
func NewMigrator(db *DB) (*Migrator, error) {
	ms, err := migrations.For(db.Dialect())
	if err != nil {
		return nil, err
	}
	return &Migrator{db: db, m: migrate.NewMigrator(db.DB, ms, migrate.WithMarkAppliedOnSuccess(true))}, nil
}

// Up applies every pending migration under the migration lock and returns the
// names it applied.
func (m *Migrator) Up(ctx context.Context) ([]string, error) {
	var names []string
	err := m.locked(ctx, func(ctx context.Context) error {
		g, err := m.m.Migrate(ctx)
		for _, mg := range g.Migrations {
			names = append(names, mg.String())
		}
		return err
	})
	return names, err
}

// Down rolls back the last applied group, or every group when all is true,
// and returns the names it rolled back.
func (m *Migrator) Down(ctx context.Context, all bool) ([]string, error) {
	var names []string
	err := m.locked(ctx, func(ctx context.Context) error {
		for {
			g, err := m.m.Rollback(ctx)
			if err != nil {
				return err
			}
			if g.IsZero() {
				return nil
			}
			for _, mg := range g.Migrations {
				names = append(names, mg.String())
			}
			if !all {
				return nil
			}
		}
	})
	return names, err
}

// Status lists every known migration in order with whether it is applied.
func (m *Migrator) Status(ctx context.Context) ([]MigrationStatus, error) {
	if err := m.m.Init(ctx); err != nil {
		return nil, mapError(err)
	}
	ms, err := m.m.MigrationsWithStatus(ctx)
	if err != nil {
		return nil, mapError(err)
	}
	out := make([]MigrationStatus, 0, len(ms))
	for _, mg := range ms {
		out = append(out, MigrationStatus{Name: mg.String(), Applied: mg.IsApplied(), AppliedAt: mg.MigratedAt})
	}
	return out, nil
}

// Pending returns the names of migrations not yet applied. It does not create
// the bookkeeping tables, so it is safe on a database someone else owns.
func (m *Migrator) Pending(ctx context.Context) ([]string, error) {
	ms, err := m.m.MigrationsWithStatus(ctx)
	if err != nil {
		return nil, mapError(err)
	}
	var names []string
	for _, mg := range ms.Unapplied() {
		names = append(names, mg.String())
	}
	return names, nil
}

// locked runs fn while holding the migration lock, so replicas that start
// together, or an operator running migrate during a deploy, never apply the
// same migration twice. PostgreSQL uses a session advisory lock on one
// connection; SQLite uses bun's lock table.
func (m *Migrator) locked(ctx context.Context, fn func(context.Context) error) error {
	if err := m.m.Init(ctx); err != nil {
		return mapError(err)
	}
	if m.db.isPostgres() {
		conn, err := m.db.Conn(ctx)
		if err != nil {
			return mapError(err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(?)", migrationLockKey); err != nil {
			return mapError(err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(?)", migrationLockKey) //nolint:errcheck
		return mapError(fn(ctx))
	}
	if err := m.m.Lock(ctx); err != nil {
		return fmt.Errorf("take migration lock (remove the row in bun_migration_locks if a migrate run crashed): %w", err)
	}
	defer m.m.Unlock(context.WithoutCancel(ctx)) //nolint:errcheck
	return mapError(fn(ctx))
}
