package store

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// changeChannel is where PostgreSQL triggers announce committed changes to
// sessions and users ('s:<session id>', 'u:<user id>'); see the migration
// 20261201000003_session_view.
const changeChannel = "authbff_sessions"

// sessionChanged and userChanged drop this process's cached reads after
// one of its own writes committed. Other replicas hear of it through the
// triggers' notifications; this process hears it too, a moment later.
func (db *DB) sessionChanged(id string) {
	if db.cache != nil {
		db.cache.forgetSession(id)
	}
}

func (db *DB) userChanged(id string) {
	if db.cache != nil {
		db.cache.forgetUser(id)
	}
}

// changeListener keeps one dedicated PostgreSQL connection LISTENing on
// changeChannel and drops the cache entries each notification names. While
// it is not listening (before the first connection, after a drop, until it
// reconnects) the cache serves nothing and starts empty again, since
// announcements may have been missed.
type changeListener struct {
	db     *DB
	log    *slog.Logger
	cancel context.CancelFunc
	done   sync.WaitGroup
}

// StartChangeListener starts listening when the cache is on and the
// database is PostgreSQL (SQLite serves one process: its own writes drop
// their entries directly). It returns at once; Close stops it.
func (db *DB) StartChangeListener(log *slog.Logger) {
	if db.cache == nil || !db.isPostgres() || db.listener != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &changeListener{db: db, log: log, cancel: cancel}
	db.listener = l
	l.done.Add(1)
	go l.run(ctx)
}

func (l *changeListener) stop() {
	l.cancel()
	l.done.Wait()
}

// run reconnects with a capped backoff until stopped.
func (l *changeListener) run(ctx context.Context) {
	defer l.done.Done()
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := l.listen(ctx)
		l.db.cache.setLive(false)
		if ctx.Err() != nil {
			return
		}
		l.log.Warn("session cache off: change listener lost its connection; reconnecting", "error", err.Error(),
			"retry_in_ms", backoff.Milliseconds())
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// listen connects, LISTENs, turns the cache on and applies notifications
// until the connection fails or ctx ends.
func (l *changeListener) listen(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, l.db.cfg.PoolTimeout)
	conn, err := pgx.Connect(cctx, l.db.cfg.DSN)
	cancel()
	if err != nil {
		return errors.New(redactConnError(err))
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+changeChannel); err != nil {
		return err
	}
	l.db.cache.setLive(true)
	l.log.Debug("session cache on: listening for changes", "channel", changeChannel)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		kind, id, _ := strings.Cut(n.Payload, ":")
		switch kind {
		case "s":
			l.db.cache.forgetSession(id)
		case "u":
			l.db.cache.forgetUser(id)
		default:
			l.db.cache.clear()
		}
	}
}

// SessionCacheServing reports whether the session cache is on and serving:
// false when it is off, and on PostgreSQL until the change listener listens
// (readiness of the cache, for tests and operators).
func (db *DB) SessionCacheServing() bool { return db.cache != nil && db.cache.live.Load() }
