package store_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/authbff/authbff/adapters/store"
)

// FuzzParseDatabaseURL: whatever DATABASE_URL holds, ParseDatabaseURL
// returns an error that never quotes the password, or a configuration that
// can be opened: a known dialect, a bounded pool, and for PostgreSQL a URL
// on the same host without the Prisma-only parameters, which parses again
// to itself. Seeds: testdata/fuzz/FuzzParseDatabaseURL.
func FuzzParseDatabaseURL(f *testing.F) {
	f.Add("postgres://app:pw@db.internal:5432/crm?schema=public&connection_limit=7&pool_timeout=20", "pw")
	f.Add("sqlite:/srv/authbff/db.sqlite?mode=rwc", "x")
	f.Add("postgres://app:p#ss@db/x", "p#ss")
	f.Fuzz(func(t *testing.T, raw, password string) {
		cfg, err := store.ParseDatabaseURL(raw, "data")
		if err == nil {
			checkParsedConfig(t, raw, cfg)
		}
		// The same input behind a password: an error never repeats it.
		secret := "S3cr3t-" + password
		withPassword := "postgres://app:" + secret + "@" + strings.TrimPrefix(raw, "postgres://")
		if _, err := store.ParseDatabaseURL(withPassword, "data"); err != nil &&
			!strings.Contains(raw, "S3cr3t-") && strings.Contains(err.Error(), secret) {
			t.Fatalf("ParseDatabaseURL(%q): error %q quotes the password", withPassword, err)
		}
	})
}

func checkParsedConfig(t *testing.T, raw string, cfg store.Config) {
	t.Helper()
	if cfg.MaxOpenConns < 1 || cfg.MaxOpenConns > 1000 || cfg.PoolTimeout <= 0 || cfg.DSN == "" {
		t.Fatalf("ParseDatabaseURL(%q) = %+v: unbounded pool or no DSN", raw, cfg)
	}
	switch cfg.Dialect {
	case store.SQLite:
		if strings.Contains(cfg.DSN, "?") {
			t.Fatalf("ParseDatabaseURL(%q): SQLite path %q keeps a query", raw, cfg.DSN)
		}
	case store.Postgres:
		u, err := url.Parse(cfg.DSN)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			t.Fatalf("ParseDatabaseURL(%q): DSN %q is not a postgres URL", raw, cfg.DSN)
		}
		in, _ := url.Parse(raw)
		if u.Host != in.Host {
			t.Fatalf("ParseDatabaseURL(%q): host %q became %q", raw, in.Host, u.Host)
		}
		for _, k := range []string{"connection_limit", "pool_timeout", "schema", "pgbouncer"} {
			if u.Query().Has(k) {
				t.Fatalf("ParseDatabaseURL(%q): DSN %q keeps Prisma's %s", raw, cfg.DSN, k)
			}
		}
		again, err := store.ParseDatabaseURL(cfg.DSN, "data")
		if err != nil || again.DSN != cfg.DSN {
			t.Fatalf("ParseDatabaseURL(%q) = %q, which parses to %q, %v", raw, cfg.DSN, again.DSN, err)
		}
	default:
		t.Fatalf("ParseDatabaseURL(%q): dialect %q", raw, cfg.Dialect)
	}
}
