package store

import (
	"context"
	"log/slog"
	"time"

	"github.com/uptrace/bun"
)

// queryLog logs every statement at debug level: its operation, duration and
// error, never its text, because the text carries arguments (token hashes,
// sealed tokens). With the pgx "exec" mode one statement is one round trip,
// so the count of these lines per request is the count of round trips.
type queryLog struct {
	log *slog.Logger
}

var _ bun.QueryHook = queryLog{}

func (q queryLog) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (q queryLog) AfterQuery(ctx context.Context, e *bun.QueryEvent) {
	q.record(ctx, e.Operation(), e.StartTime, e.Err)
}

func (q queryLog) record(ctx context.Context, op string, start time.Time, err error) {
	attrs := []any{"op", op, "duration_ms", float64(time.Since(start).Microseconds()) / 1000}
	if err != nil {
		attrs = append(attrs, "error", err.Error())
	}
	q.log.DebugContext(ctx, "db query", attrs...)
}

// OpenLogged opens the database like Open and, when log has debug enabled
// (AUTH_DEBUG), logs every statement.
func OpenLogged(cfg Config, log *slog.Logger) (*DB, error) {
	db, err := Open(cfg)
	if err != nil {
		return nil, err
	}
	if log != nil && log.Enabled(context.Background(), slog.LevelDebug) {
		db.qlog = &queryLog{log: log}
		db.DB = db.WithQueryHook(*db.qlog)
	}
	return db, nil
}
