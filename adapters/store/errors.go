package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/authbff/authbff/domain"
)

// mapError translates driver errors into domain sentinels. It is the only
// place that knows SQLSTATEs and SQLite messages.
func mapError(err error) error {
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "23505": // unique_violation
			return fmt.Errorf("%w: %s", domain.ErrConflict, pgErr.ConstraintName)
		case pgErr.Code == "23503": // foreign_key_violation
			return fmt.Errorf("%w: %s", errForeignKey, pgErr.ConstraintName)
		case strings.HasPrefix(pgErr.Code, "08"), strings.HasPrefix(pgErr.Code, "57P"), pgErr.Code == "53300",
			pgErr.Code == "55P03", pgErr.Code == "57014", pgErr.Code == "40001", pgErr.Code == "40P01":
			// connection exceptions, admin shutdown, too many connections,
			// lock_timeout, statement cancelled, serialization failure, deadlock:
			// all worth a retry, none a client error
			return fmt.Errorf("%w: database: %s", domain.ErrUnavailable, pgErr.Message)
		}
		return fmt.Errorf("database: %s (SQLSTATE %s)", pgErr.Message, pgErr.Code)
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "UNIQUE constraint failed"):
		return fmt.Errorf("%w: %s", domain.ErrConflict, msg)
	case strings.Contains(msg, "FOREIGN KEY constraint failed"):
		return fmt.Errorf("%w: %s", errForeignKey, msg)
	case strings.Contains(msg, "database is locked"), strings.Contains(msg, "SQLITE_BUSY"):
		return fmt.Errorf("%w: database busy", domain.ErrUnavailable)
	}
	var netErr net.Error
	var connErr *pgconn.ConnectError
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) || errors.As(err, &connErr) ||
		errors.Is(err, sql.ErrConnDone) || strings.Contains(msg, "connection refused") ||
		strings.Contains(msg, "failed to connect") || strings.Contains(msg, "conn closed") ||
		strings.Contains(msg, "unexpected EOF") || strings.Contains(msg, "broken pipe") {
		return fmt.Errorf("%w: database: %s", domain.ErrUnavailable, shortReason(err))
	}
	return err
}

// errForeignKey is internal: callers turn it into the right not-found error.
var errForeignKey = errors.New("foreign key violation")

// shortReason describes a connection failure without the DSN.
func shortReason(err error) string {
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		return "cannot connect: " + lastColon(connErr.Unwrap().Error())
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	return lastColon(err.Error())
}

func lastColon(s string) string {
	if i := strings.LastIndex(s, ": "); i >= 0 && i+2 < len(s) {
		return s[i+2:]
	}
	return s
}
