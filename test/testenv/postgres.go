// Package testenv gives tests real databases: a fresh, migrated PostgreSQL
// database per test (from TEST_DATABASE_URL, which `make test` sets by
// starting a throwaway cluster) and a fresh SQLite file per test.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/authbff/authbff/adapters/store"
)

// RequirePostgres returns the admin URL of the test PostgreSQL server. When
// TEST_DATABASE_URL is unset the test is skipped, except under CI=true where
// a missing database is a failure.
func RequirePostgres(t testing.TB) string {
	t.Helper()
	u := os.Getenv("TEST_DATABASE_URL")
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("TEST_DATABASE_URL is not set under CI=true: run the tests with `make test`")
		}
		t.Skip("TEST_DATABASE_URL not set: run `make test` to start a throwaway PostgreSQL")
	}
	if testing.Short() {
		t.Skip("PostgreSQL tests skipped in -short mode")
	}
	return u
}

// NewPostgresURL creates an empty database on the test server and returns its
// URL; the database is dropped when the test ends.
func NewPostgresURL(t testing.TB) string {
	t.Helper()
	admin := RequirePostgres(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "authbff_test_" + hex.EncodeToString(b[:])
	adminDB := open(t, admin)
	ctx := context.Background()
	if _, err := adminDB.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		_, _ = adminDB.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		_ = adminDB.Close()
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("TEST_DATABASE_URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// NewPostgres returns a fresh, migrated PostgreSQL database.
func NewPostgres(t testing.TB) *store.DB {
	t.Helper()
	db := open(t, NewPostgresURL(t))
	migrate(t, db)
	return db
}

// NewSQLite returns a fresh, migrated SQLite database in a temp directory.
func NewSQLite(t testing.TB) *store.DB {
	t.Helper()
	db := open(t, "sqlite:"+filepath.Join(t.TempDir(), "authbff.db"))
	migrate(t, db)
	return db
}

// TestCache is the session cache configuration of the *Cached databases: a
// TTL long enough that only invalidation, never expiry, empties it in a test.
var TestCache = store.CacheConfig{TTL: time.Minute, MaxEntries: 10_000, MaxBytes: 64 << 20}

// NewPostgresCached is NewPostgres with the session cache on and its change
// listener listening (it waits for that, so the cache really serves).
func NewPostgresCached(t testing.TB) *store.DB {
	t.Helper()
	db := openWith(t, NewPostgresURL(t), TestCache)
	migrate(t, db)
	db.StartChangeListener(slog.New(slog.DiscardHandler))
	deadline := time.Now().Add(30 * time.Second)
	for !db.SessionCacheServing() {
		if time.Now().After(deadline) {
			t.Fatal("the session cache's change listener did not start listening within 30 s")
		}
		time.Sleep(5 * time.Millisecond) // polling a condition set by another goroutine
	}
	return db
}

// NewSQLiteCached is NewSQLite with the session cache on.
func NewSQLiteCached(t testing.TB) *store.DB {
	t.Helper()
	db := openWith(t, "sqlite:"+filepath.Join(t.TempDir(), "authbff.db"), TestCache)
	migrate(t, db)
	return db
}

// Databases returns a constructor per dialect, for running one suite on both.
func Databases() map[string]func(testing.TB) *store.DB {
	return map[string]func(testing.TB) *store.DB{store.Postgres: NewPostgres, store.SQLite: NewSQLite}
}

func open(t testing.TB, rawURL string) *store.DB {
	t.Helper()
	return openWith(t, rawURL, store.CacheConfig{})
}

func openWith(t testing.TB, rawURL string, cache store.CacheConfig) *store.DB {
	t.Helper()
	cfg, err := store.ParseDatabaseURL(rawURL, t.TempDir())
	if err != nil {
		t.Fatalf("database URL: %v", err)
	}
	cfg.SessionCache = cache
	db, err := store.Open(cfg)
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func migrate(t testing.TB, db *store.DB) {
	t.Helper()
	m, err := store.NewMigrator(db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Up(context.Background()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
}
