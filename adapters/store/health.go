package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/authbff/authbff/ports"
)

// Health reports whether the database answers and is fully migrated.
type Health struct {
	db       *DB
	migrator *Migrator
}

// NewHealth returns the database health check.
func NewHealth(db *DB, m *Migrator) *Health { return &Health{db: db, migrator: m} }

var _ ports.HealthCheck = (*Health)(nil)

// Name implements ports.HealthCheck.
func (h *Health) Name() string { return "database" }

// Check implements ports.HealthCheck.
func (h *Health) Check(ctx context.Context) error {
	if err := h.db.Ping(ctx); err != nil {
		return err
	}
	ctx, cancel := h.db.bound(ctx)
	defer cancel()
	pending, err := h.migrator.Pending(ctx)
	if err != nil {
		return fmt.Errorf("read migration status: %w", err)
	}
	if len(pending) > 0 {
		return fmt.Errorf("%d migration(s) pending: %s (run `authbff migrate up`)", len(pending), strings.Join(pending, ", "))
	}
	return nil
}
