package store_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/adapters/store"
)

func TestParseDatabaseURL(t *testing.T) {
	dataDir := filepath.Join("var", "lib", "authbff")
	cases := []struct {
		name string
		raw  string
		want store.Config
	}{
		{"empty means sqlite in the data dir", "",
			store.Config{Dialect: store.SQLite, DSN: filepath.Join(dataDir, "authbff.db"), MaxOpenConns: 4, PoolTimeout: store.DefaultPoolTimeout}},
		{"sqlite path", "sqlite:/srv/authbff/db.sqlite",
			store.Config{Dialect: store.SQLite, DSN: "/srv/authbff/db.sqlite", MaxOpenConns: 4, PoolTimeout: store.DefaultPoolTimeout}},
		{"sqlite URL with absolute path", "sqlite:///srv/authbff/db.sqlite",
			store.Config{Dialect: store.SQLite, DSN: "/srv/authbff/db.sqlite", MaxOpenConns: 4, PoolTimeout: store.DefaultPoolTimeout}},
		{"sqlite URL with relative path", "sqlite://data/authbff.db",
			store.Config{Dialect: store.SQLite, DSN: "data/authbff.db", MaxOpenConns: 4, PoolTimeout: store.DefaultPoolTimeout}},
		{"prisma file URL with parameters", "file:./dev.db?connection_limit=1",
			store.Config{Dialect: store.SQLite, DSN: "./dev.db", MaxOpenConns: 4, PoolTimeout: store.DefaultPoolTimeout}},
		{"postgres defaults", "postgres://app:s3cret@db.internal:5432/authbff",
			store.Config{Dialect: store.Postgres, DSN: "postgres://app:s3cret@db.internal:5432/authbff", MaxOpenConns: 10, PoolTimeout: store.DefaultPoolTimeout}},
		{"postgresql scheme", "postgresql://app@db.internal/authbff?sslmode=require",
			store.Config{Dialect: store.Postgres, DSN: "postgresql://app@db.internal/authbff?sslmode=require", MaxOpenConns: 10, PoolTimeout: store.DefaultPoolTimeout}},
		{"prisma pool parameters", "postgresql://app:s3cret@db/authbff?connection_limit=25&pool_timeout=30&sslmode=verify-full",
			store.Config{Dialect: store.Postgres, DSN: "postgresql://app:s3cret@db/authbff?sslmode=verify-full", MaxOpenConns: 25, PoolTimeout: 30 * time.Second}},
		{"pool_timeout 0 keeps the default bound", "postgres://app@db/authbff?pool_timeout=0",
			store.Config{Dialect: store.Postgres, DSN: "postgres://app@db/authbff", MaxOpenConns: 10, PoolTimeout: store.DefaultPoolTimeout}},
		{"prisma schema becomes search_path", "postgres://app@db/authbff?schema=auth&connection_limit=1",
			store.Config{Dialect: store.Postgres, DSN: "postgres://app@db/authbff?search_path=auth", MaxOpenConns: 1, PoolTimeout: store.DefaultPoolTimeout}},
		{"other prisma-only parameters are dropped", "postgres://app@db/authbff?pgbouncer=true&socket_timeout=5&application_name=authbff",
			store.Config{Dialect: store.Postgres, DSN: "postgres://app@db/authbff?application_name=authbff", MaxOpenConns: 10, PoolTimeout: store.DefaultPoolTimeout}},
		{"unix socket without host", "postgres:///authbff?host=/var/run/postgresql",
			store.Config{Dialect: store.Postgres, DSN: "postgres:///authbff?host=%2Fvar%2Frun%2Fpostgresql", MaxOpenConns: 10, PoolTimeout: store.DefaultPoolTimeout}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := store.ParseDatabaseURL(tc.raw, dataDir)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestParseDatabaseURLErrorsHideThePassword(t *testing.T) {
	const password = "Pa55-w0rd-xyz"
	cases := []struct {
		name    string
		raw     string
		mention string // the error should name what is wrong
	}{
		{"connection_limit not a number", "postgres://app:" + password + "@db/authbff?connection_limit=many", "connection_limit"},
		{"connection_limit zero", "postgres://app:" + password + "@db/authbff?connection_limit=0", "connection_limit"},
		{"connection_limit too large", "postgres://app:" + password + "@db/authbff?connection_limit=100000", "connection_limit"},
		{"pool_timeout negative", "postgres://app:" + password + "@db/authbff?pool_timeout=-1", "pool_timeout"},
		{"pool_timeout not a number", "postgres://app:" + password + "@db/authbff?pool_timeout=10s", "pool_timeout"},
		{"unsupported scheme", "mysql://app:" + password + "@db/authbff", "scheme"},
		{"no host", "postgres://app:" + password + "@/authbff", "host"},
		{"bad port", "postgres://app:" + password + "@db:port/authbff", ""},
		{"control character", "postgres://app:" + password + "@db/authbff\n", ""},
		// Unescaped '#', '?' or '/' in a password end the authority early,
		// so url.Parse sees the password as a port and quotes it.
		{"unescaped hash in password", "postgres://app:" + password + "#1@db/authbff", ""},
		{"unescaped question mark in password", "postgres://app:" + password + "?1@db/authbff", ""},
		{"unescaped slash in password", "postgres://app:" + password + "/1@db/authbff", ""},
		{"bad escape in password", "postgres://app:" + password + "%zz@db/authbff", ""},
		{"sqlite without a file", "sqlite:", "file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := store.ParseDatabaseURL(tc.raw, t.TempDir())
			require.Error(t, err)
			require.NotContains(t, err.Error(), password)
			require.NotContains(t, err.Error(), password[:8], "not even part of the password")
			if tc.mention != "" {
				require.Contains(t, err.Error(), tc.mention)
			}
		})
	}
}

func TestOpenPostgresConfigs(t *testing.T) {
	// Every URL ParseDatabaseURL accepts must also be accepted by the driver.
	for _, raw := range []string{
		"postgres://app:s3cret@db.internal:5432/authbff?schema=auth&connection_limit=3&pool_timeout=5",
		"postgres:///authbff?host=/var/run/postgresql",
	} {
		cfg, err := store.ParseDatabaseURL(raw, t.TempDir())
		require.NoError(t, err, raw)
		db, err := store.Open(cfg)
		require.NoError(t, err, raw)
		require.Equal(t, store.Postgres, db.Dialect())
		require.NoError(t, db.Close())
	}
	_, err := store.Open(store.Config{Dialect: "oracle"})
	require.Error(t, err)
	require.False(t, strings.Contains(err.Error(), "://"))
}
