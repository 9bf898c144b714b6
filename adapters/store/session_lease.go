package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
)

// The refresh lease lives in two columns of the session row. Each statement
// below is a transaction of its own (autocommit): no row lock outlives it,
// so an IdP call made while the lease is held holds no connection, and
// lookups, organization switches and sign-outs of the session go on beside it.

// acquireLeaseSQL takes the lease if it is free, expired, or the caller's.
const acquireLeaseSQL = `UPDATE sessions SET refresh_lease_owner = ?, refresh_lease_expires = ?
WHERE id = ? AND (refresh_lease_owner IS NULL OR refresh_lease_owner = ? OR refresh_lease_expires <= ?)`

// releaseLeaseSQL frees the lease if the caller still holds it.
const releaseLeaseSQL = `UPDATE sessions SET refresh_lease_owner = NULL, refresh_lease_expires = NULL
WHERE id = ? AND refresh_lease_owner = ?`

// AcquireRefreshLease implements ports.SessionStore: one conditional UPDATE
// takes the lease; when it matches no row, a read tells "held" from "gone".
// The session is read after the lease is taken, so it shows every token
// stored by earlier holders.
func (s *SessionStore) AcquireRefreshLease(ctx context.Context, id, owner string, now, until time.Time) (*domain.Session, error) {
	if s.db.cannotBeID(id) {
		return nil, domain.ErrSessionNotFound
	}
	if owner == "" {
		return nil, errors.New("acquire refresh lease: empty owner")
	}
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	res, err := s.db.ExecContext(ctx, acquireLeaseSQL, owner, until.UTC(), id, owner, now.UTC())
	if err != nil {
		return nil, mapError(err)
	}
	taken, _ := res.RowsAffected()
	row := new(sessionRow)
	if err := s.db.NewSelect().Model(row).ColumnExpr("s.*").Where("id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, domain.ErrSessionNotFound
		}
		return nil, mapError(err)
	}
	if taken == 0 {
		return nil, fmt.Errorf("session %s: %w", id, ports.ErrRefreshLeaseHeld)
	}
	if row.RefreshLeaseOwner != owner {
		// Taken and, between the two statements, released by us? Impossible;
		// expired and taken over by another in that instant: report it held.
		return nil, fmt.Errorf("session %s: %w", id, ports.ErrRefreshLeaseHeld)
	}
	return row.toDomain(), nil
}

// ReleaseRefreshLease implements ports.SessionStore.
func (s *SessionStore) ReleaseRefreshLease(ctx context.Context, id, owner string) error {
	if s.db.cannotBeID(id) || owner == "" {
		return nil
	}
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	_, err := s.db.ExecContext(ctx, releaseLeaseSQL, id, owner)
	return mapError(err)
}

// UpdateUnderLease implements ports.SessionStore: Update's transaction, plus
// the lease check on the locked row and the release in the same commit. It
// runs only after the IdP answered, so the row lock lasts milliseconds.
func (s *SessionStore) UpdateUnderLease(ctx context.Context, id, owner string, fn func(*domain.Session) error) error {
	if owner == "" {
		return fmt.Errorf("update under lease: empty owner: %w", ports.ErrRefreshLeaseLost)
	}
	return s.update(ctx, id, owner, fn)
}
