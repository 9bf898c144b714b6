package store

import (
	"context"
	"time"

	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
)

// SessionMaintenance implements ports.SessionMaintenance.
type SessionMaintenance struct{ db *DB }

// NewSessionMaintenance returns a SessionMaintenance on db.
func NewSessionMaintenance(db *DB) *SessionMaintenance { return &SessionMaintenance{db: db} }

var _ ports.SessionMaintenance = (*SessionMaintenance)(nil)

// DeleteExpired implements ports.SessionMaintenance. On PostgreSQL the batch
// is chosen with FOR UPDATE SKIP LOCKED, so replicas running cleanup at the
// same time take disjoint batches and never wait on each other or on a
// request that is updating one of those rows.
//
// Idle and absolute expiry are deleted in two steps, each a plain range on
// its own index in index order: one condition with OR made PostgreSQL build a
// bitmap of every expired row for each batch (seconds per batch with a
// million-row backlog), while an ordered index scan stops after limit rows.
func (m *SessionMaintenance) DeleteExpired(ctx context.Context, now time.Time, limit int) (int64, error) {
	n, err := deleteBatch(ctx, m.db, "sessions", "id", "expires <= ?", "expires", limit, now.UTC())
	if err != nil || n >= int64(limit) {
		return n, err
	}
	more, err := deleteBatch(ctx, m.db, "sessions", "id", "absolute_expires <= ?", "absolute_expires", limit-int(n), now.UTC())
	return n + more, err
}

// deleteBatch deletes up to limit rows of table matching where, keyed by key,
// taking them in the order of orderBy (an indexed column).
func deleteBatch(ctx context.Context, db *DB, table, key, where, orderBy string, limit int, args ...any) (int64, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	lock := ""
	if db.isPostgres() {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	args = append(args, limit)
	res, err := db.ExecContext(ctx, "DELETE FROM "+table+" WHERE "+key+" IN (SELECT "+key+" FROM "+table+
		" WHERE "+where+" ORDER BY "+orderBy+" LIMIT ?"+lock+")", args...)
	if err != nil {
		return 0, mapError(err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

type statsRow struct {
	Total          int64    `bun:"total"`
	Active         int64    `bun:"active"`
	AvgHours       *float64 `bun:"avg_hours"`
	CreatedLast24h int64    `bun:"created_last_24h"`
}

// Stats implements ports.SessionStats with the replaced system's monitoring
// query: count(*), count of expires > now, avg(expires - created_at) in hours,
// plus sessions created in the last 24 h and active sessions per organization.
func (m *SessionMaintenance) Stats(ctx context.Context, now time.Time) (domain.SessionStats, error) {
	ctx, cancel := m.db.bound(ctx)
	defer cancel()
	now = now.UTC()
	avg := "avg(extract(epoch FROM (expires - created_at))) / 3600.0"
	if !m.db.isPostgres() {
		avg = "avg((julianday(expires) - julianday(created_at)) * 24.0)"
	}
	var row statsRow
	err := m.db.NewRaw(`SELECT count(*) AS total,
	coalesce(sum(CASE WHEN expires > ? AND absolute_expires > ? THEN 1 ELSE 0 END), 0) AS active,
	`+avg+` AS avg_hours,
	coalesce(sum(CASE WHEN created_at > ? THEN 1 ELSE 0 END), 0) AS created_last_24h
FROM sessions`, now, now, now.Add(-24*time.Hour)).Scan(ctx, &row)
	if err != nil {
		return domain.SessionStats{}, mapError(err)
	}
	st := domain.SessionStats{
		Total: row.Total, Active: row.Active, Expired: row.Total - row.Active,
		CreatedLast24h: row.CreatedLast24h, ActivePerOrganization: map[string]int64{},
	}
	if row.AvgHours != nil {
		st.AverageDurationHours = *row.AvgHours
	}
	var perOrg []struct {
		Alias string `bun:"alias"`
		N     int64  `bun:"n"`
	}
	err = m.db.NewRaw(`SELECT o.alias AS alias, count(*) AS n FROM sessions s
	JOIN organizations o ON o.id = s.active_organization_id
	WHERE s.expires > ? AND s.absolute_expires > ? GROUP BY o.alias`, now, now).Scan(ctx, &perOrg)
	if err != nil {
		return domain.SessionStats{}, mapError(err)
	}
	for _, p := range perOrg {
		st.ActivePerOrganization[p.Alias] = p.N
	}
	return st, nil
}
