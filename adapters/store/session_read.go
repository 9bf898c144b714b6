package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authbff/authbff/domain"
)

// The session view read (GET /session, every page load) on PostgreSQL goes
// through a readBatcher: alone when the database keeps up, coalesced with
// the reads that arrive meanwhile when it does not.

const (
	// sessionReadLanes is how many statements of each session read (the
	// view, and the full read with tokens) run at once.
	// Two keep a read from waiting behind a whole statement when the
	// database answers quickly, and leave the pool to everything else;
	// more lanes make smaller batches, which cost the database more per
	// read (measured in the README: 1, 2, 4, 8 and 20 lanes).
	sessionReadLanes = 2
	// maxSessionReadBatch bounds one statement's array of token hashes.
	maxSessionReadBatch = 128
)

// leanColumns are what the view read takes from a session row, in the
// order leanRow is scanned.
const leanColumns = `id, user_id, expires, absolute_expires, coalesce(active_organization_id, ''), user_view`

// lookupBatchSQL is the view read (lookupSQL) for several token hashes at
// once: one index scan of sessions_token_hash_key for the whole array.
const lookupBatchSQL = `SELECT token_hash, ` + leanColumns + ` FROM sessions WHERE token_hash = ANY($1)`

// leanRow is what the view read takes from a session row.
type leanRow struct {
	record   domain.SessionRecord
	userJSON sql.NullString
}

// newReads returns a batcher of session reads by token hash on db's pool.
func newReads[V any](db *DB, one func(context.Context, string) (V, bool, error),
	many func(context.Context, []string) (map[string]V, error)) *readBatcher[string, V] {
	return &readBatcher[string, V]{lanes: sessionReadLanes, maxBatch: maxSessionReadBatch, one: one, many: many,
		bound: func() (context.Context, context.CancelFunc) { return db.bound(context.Background()) }}
}

// newSessionReads batches the view read (GET /session).
func newSessionReads(db *DB) *readBatcher[string, leanRow] {
	one := lookupSQL("$1", false)
	return newReads(db, func(ctx context.Context, hash string) (leanRow, bool, error) {
		return db.readLeanRow(ctx, one, hash)
	}, db.readLeanRows)
}

// newFullReads batches the full read (the token endpoint and the proxy).
func newFullReads(db *DB) *readBatcher[string, lookupRow] {
	return newReads(db, db.readFullRow, db.readFullRows)
}

// SessionReadStat returns how many statements the session reads (the view
// and the full read) ran and how many reads were answered by a statement
// shared with others (both 0 on SQLite, where reads are not batched).
func (db *DB) SessionReadStat() (statements, batched uint64) {
	s1, b1 := db.reads.stat()
	s2, b2 := db.fullReads.stat()
	return s1 + s2, b1 + b2
}

// readLeanRow reads one session row by its token hash.
func (db *DB) readLeanRow(ctx context.Context, query, hash string) (leanRow, bool, error) {
	var row leanRow
	r := &row.record
	err := db.queryRow(ctx, query, hash).Scan(&r.ID, &r.UserID, &r.Expires, &r.AbsoluteExpires,
		&r.ActiveOrganizationID, &row.userJSON)
	if errors.Is(err, sql.ErrNoRows) || errors.Is(err, pgx.ErrNoRows) {
		return row, false, nil
	}
	return row, err == nil, err
}

// readLeanRows reads the session rows of several token hashes in one
// statement; a hash without a row is absent from the answer.
func (db *DB) readLeanRows(ctx context.Context, hashes []string) (map[string]leanRow, error) {
	return queryByHash(ctx, db, lookupBatchSQL, hashes, func(rows pgx.Rows) (string, leanRow, error) {
		var hash string
		var row leanRow
		r := &row.record
		err := rows.Scan(&hash, &r.ID, &r.UserID, &r.Expires, &r.AbsoluteExpires, &r.ActiveOrganizationID, &row.userJSON)
		return hash, row, err
	})
}

// queryByHash runs a statement over an array of token hashes and keys its
// rows by the hash scan reads from each.
func queryByHash[V any](ctx context.Context, db *DB, query string, hashes []string,
	scan func(pgx.Rows) (string, V, error)) (map[string]V, error) {
	if db.qlog != nil {
		defer func(start time.Time) { db.qlog.record(ctx, "SELECT", start, nil) }(time.Now())
	}
	rows, err := db.pool.Query(ctx, query, pgx.QueryExecModeCacheStatement, hashes)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[string]V, len(hashes))
	for rows.Next() {
		hash, v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out[hash] = v
	}
	return out, rows.Err()
}

// readFullRow reads one session row with its tokens and user.
func (db *DB) readFullRow(ctx context.Context, hash string) (lookupRow, bool, error) {
	var row lookupRow
	err := scanFull(db.queryRow(ctx, lookupFullPG, hash), &row)
	if errors.Is(err, pgx.ErrNoRows) {
		return row, false, nil
	}
	return row, err == nil, err
}

// readFullRows reads the rows of several token hashes in one statement.
func (db *DB) readFullRows(ctx context.Context, hashes []string) (map[string]lookupRow, error) {
	return queryByHash(ctx, db, lookupFullBatchPG, hashes, func(rows pgx.Rows) (string, lookupRow, error) {
		var row lookupRow
		err := scanFull(rows, &row)
		return row.TokenHash, row, err
	})
}
