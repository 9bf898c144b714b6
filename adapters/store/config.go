package store

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Dialect names.
const (
	Postgres = "postgres"
	SQLite   = "sqlite"
)

// Config says which database to open and how to pool connections.
type Config struct {
	// Dialect is Postgres or SQLite.
	Dialect string
	// DSN is the driver connection string: a postgres:// URL without the
	// pool parameters, or an SQLite file path.
	DSN string
	// MaxOpenConns caps the pool (Prisma's connection_limit).
	MaxOpenConns int
	// PoolTimeout bounds how long one database operation may take, waiting
	// for a free connection included (Prisma's pool_timeout).
	PoolTimeout time.Duration
	// SessionCache bounds the cache of session reads (off when zero).
	SessionCache CacheConfig
}

// DefaultPoolTimeout is used when neither the URL nor the environment sets one.
const DefaultPoolTimeout = 10 * time.Second

// ParseDatabaseURL turns a DATABASE_URL into a Config. It accepts
// postgres:// and postgresql:// URLs, including the connection_limit and
// pool_timeout (seconds) parameters that Prisma-based apps put there, and
// Prisma's schema parameter (mapped to search_path). It accepts sqlite:PATH,
// sqlite://PATH and file:PATH for SQLite. An empty URL means SQLite in
// dataDir.
func ParseDatabaseURL(raw, dataDir string) (Config, error) {
	cfg := Config{PoolTimeout: DefaultPoolTimeout}
	switch {
	case raw == "":
		cfg.Dialect, cfg.DSN = SQLite, filepath.Join(dataDir, "authbff.db")
		cfg.MaxOpenConns = 4
		return cfg, nil
	case strings.HasPrefix(raw, "sqlite:") || strings.HasPrefix(raw, "file:"):
		path := strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(raw, "sqlite:"), "file:"), "//")
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
		if path == "" {
			return cfg, fmt.Errorf("sqlite URL %q names no file", raw)
		}
		cfg.Dialect, cfg.DSN, cfg.MaxOpenConns = SQLite, path, 4
		return cfg, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return cfg, fmt.Errorf("not a URL: %s", redactParseError(err))
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return cfg, fmt.Errorf("unsupported scheme %q (want postgres://, sqlite: or file:)", u.Scheme)
	}
	q := u.Query()
	if u.Host == "" && q.Get("host") == "" { // libpq form for a Unix socket: postgres:///db?host=/run/postgresql
		return cfg, fmt.Errorf("postgres URL has no host")
	}
	cfg.Dialect, cfg.MaxOpenConns = Postgres, 10
	if v := q.Get("connection_limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return cfg, fmt.Errorf("connection_limit must be an integer from 1 to 1000, got %q", v)
		}
		cfg.MaxOpenConns = n
	}
	if v := q.Get("pool_timeout"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 3600 {
			return cfg, fmt.Errorf("pool_timeout must be seconds from 0 to 3600, got %q", v)
		}
		if n > 0 { // Prisma: 0 means no timeout; we keep the default bound.
			cfg.PoolTimeout = time.Duration(n) * time.Second
		}
	}
	if v := q.Get("schema"); v != "" {
		q.Set("search_path", v)
	}
	for _, k := range []string{"connection_limit", "pool_timeout", "schema", "pgbouncer", "socket_timeout", "connect_timeout_prisma"} {
		q.Del(k)
	}
	u.RawQuery = q.Encode()
	cfg.DSN = u.String()
	return cfg, nil
}

// redactParseError drops url.Parse's reason as well as the URL: the reason can
// quote part of the authority, and with it the password. An unescaped '#',
// '?' or '/' in a password ends the authority early, and url.Parse then
// reports `invalid port ":<password>" after host`.
func redactParseError(error) string {
	return "malformed URL (percent-encode special characters in the user name and password)"
}
