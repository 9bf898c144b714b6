package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver
)

// DB is an open database with the settings the stores need.
type DB struct {
	*bun.DB
	cfg Config
	// pool is the PostgreSQL connection pool (nil on SQLite). bun reaches it
	// through database/sql; the session read, which every page load makes,
	// uses it directly (see lookupLean). One pool, so connection_limit
	// bounds both.
	pool *pgxpool.Pool
	// qlog logs statements that bypass bun's hooks (prepared statements).
	qlog *queryLog
	// cache holds recent session reads without tokens (nil: off); listener
	// keeps it in step with other replicas' writes on PostgreSQL.
	cache    *sessionCache
	listener *changeListener
	// reads and fullReads batch concurrent session reads (the view, and
	// the full read with tokens) on PostgreSQL; nil on SQLite, where a
	// read is an in-process call.
	reads     *readBatcher[string, leanRow]
	fullReads *readBatcher[string, lookupRow]
}

// Open opens (but does not migrate) the configured database. It does not
// contact the server; use Ping for that.
func Open(cfg Config) (*DB, error) {
	var db *bun.DB
	var pool *pgxpool.Pool
	switch cfg.Dialect {
	case Postgres:
		pc, err := pgxpool.ParseConfig(cfg.DSN)
		if err != nil {
			return nil, fmt.Errorf("parse postgres URL: %s", redactConnError(err))
		}
		// bun writes arguments into the SQL text, so every statement is new
		// to the server. pgx's default (prepare, then execute) would cost two
		// round trips per query; "exec" sends it in one. The session read
		// asks for a prepared statement explicitly.
		pc.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeExec
		if cfg.MaxOpenConns > 0 {
			pc.MaxConns = int32(min(cfg.MaxOpenConns, 1<<30))
		}
		pc.MinConns = 0 // Open does not contact the server
		if pool, err = pgxpool.NewWithConfig(context.Background(), pc); err != nil {
			return nil, fmt.Errorf("open postgres pool: %s", redactConnError(err))
		}
		// database/sql keeps no idle connections of its own here: idle ones
		// go back to the pgx pool, where the direct session read finds them.
		sqldb := stdlib.OpenDBFromPool(pool)
		// Unknown columns are skipped, not an error: a replica one release
		// behind must keep reading rows after a migration added a column
		// (migrations run before the rollout).
		db = bun.NewDB(sqldb, pgdialect.New(), bun.WithDiscardUnknownColumns())
		if cfg.MaxOpenConns > 0 {
			db.SetMaxOpenConns(cfg.MaxOpenConns)
		}
	case SQLite:
		if dir := filepath.Dir(cfg.DSN); dir != "" {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, fmt.Errorf("create sqlite directory: %w", err)
			}
		}
		// WAL lets readers run beside the writer; IMMEDIATE transactions take
		// the write lock up front so read-then-write transactions never
		// deadlock on lock upgrade; foreign keys are off by default in SQLite.
		dsn := "file:" + cfg.DSN + "?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)" +
			"&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_txlock=immediate"
		sqldb, err := sql.Open("sqlite", dsn)
		if err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		db = bun.NewDB(sqldb, sqlitedialect.New(), bun.WithDiscardUnknownColumns())
		if cfg.MaxOpenConns > 0 {
			db.SetMaxOpenConns(cfg.MaxOpenConns)
			db.SetMaxIdleConns(cfg.MaxOpenConns)
		}
	default:
		return nil, fmt.Errorf("unknown dialect %q", cfg.Dialect)
	}
	if cfg.PoolTimeout <= 0 {
		cfg.PoolTimeout = DefaultPoolTimeout
	}
	out := &DB{DB: db, cfg: cfg, pool: pool}
	if pool != nil {
		out.reads, out.fullReads = newSessionReads(out), newFullReads(out)
	}
	if cfg.SessionCache.Enabled() {
		// On PostgreSQL the cache serves nothing until the change listener
		// listens (StartChangeListener); SQLite has no other writer.
		out.cache = newSessionCache(cfg.SessionCache, cfg.Dialect == SQLite)
	}
	return out, nil
}

// Close stops the change listener, if any, and closes the pool.
func (db *DB) Close() error {
	if db.listener != nil {
		db.listener.stop()
	}
	err := db.DB.Close()
	if db.pool != nil {
		db.pool.Close()
	}
	return err
}

// SQL returns the connection pool, for its statistics.
func (db *DB) SQL() *sql.DB { return db.DB.DB }

// Dialect returns Postgres or SQLite.
func (db *DB) Dialect() string { return db.cfg.Dialect }

// Ping checks that the database answers within the pool timeout.
func (db *DB) Ping(ctx context.Context) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		return mapError(err)
	}
	return nil
}

// bound limits one operation to the pool timeout, waiting for a connection
// included, so an exhausted pool or a hung server turns into
// domain.ErrUnavailable instead of a request that never ends.
func (db *DB) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, db.cfg.PoolTimeout)
}

func (db *DB) isPostgres() bool { return db.cfg.Dialect == Postgres }

// cannotBeID reports an id that no row can have because PostgreSQL's uuid
// columns would reject it with a syntax error (SQLSTATE 22P02). Callers answer
// "not found" for it, as the ports promise, instead of a database error.
func (db *DB) cannotBeID(id string) bool { return db.isPostgres() && !pgUUIDSyntax(id) }

// pgUUIDSyntax mirrors PostgreSQL's uuid_in: optional braces around 32 hex
// digits, with an optional hyphen after any group of four but the last.
func pgUUIDSyntax(s string) bool {
	braces := strings.HasPrefix(s, "{")
	if braces {
		s = s[1:]
	}
	for i := 0; i < 16; i++ {
		if len(s) < 2 || !isHex(s[0]) || !isHex(s[1]) {
			return false
		}
		s = s[2:]
		if len(s) > 0 && s[0] == '-' && i%2 == 1 && i < 15 {
			s = s[1:]
		}
	}
	if braces {
		if !strings.HasPrefix(s, "}") {
			return false
		}
		s = s[1:]
	}
	return s == ""
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// redactConnError keeps pgx's reason but never the connection string, which
// may hold a password.
func redactConnError(err error) string {
	msg := err.Error()
	if strings.Contains(msg, "://") || strings.Contains(msg, "password") {
		return "invalid connection string"
	}
	return msg
}

// PoolStat returns the PostgreSQL pool's statistics; false on SQLite.
func (db *DB) PoolStat() (*pgxpool.Stat, bool) {
	if db.pool == nil {
		return nil, false
	}
	return db.pool.Stat(), true
}
