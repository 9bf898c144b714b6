package store_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/adapters/store"
	"github.com/authbff/authbff/domain"
)

// TestPingUnreachablePostgres needs no database: nothing listens on port 1.
func TestPingUnreachablePostgres(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		"postgres://nobody@127.0.0.1:1/x",
		"postgres://nobody:Secr3t-Pw@127.0.0.1:1/x?pool_timeout=2",
	} {
		cfg, err := store.ParseDatabaseURL(raw, t.TempDir())
		require.NoError(t, err)
		db, err := store.Open(cfg)
		require.NoError(t, err, "Open does not contact the server")
		t.Cleanup(func() { _ = db.Close() })

		err = db.Ping(t.Context())
		require.ErrorIs(t, err, domain.ErrUnavailable)
		requireNoURL(t, err, raw)

		m, err := store.NewMigrator(db)
		require.NoError(t, err)
		err = store.NewHealth(db, m).Check(t.Context())
		require.ErrorIs(t, err, domain.ErrUnavailable)
		requireNoURL(t, err, raw)
	}
}

// TestPingHungPostgres points the store at a server that accepts connections
// and never answers: the pool timeout turns the wait into ErrUnavailable.
func TestPingHungPostgres(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // hold it open, say nothing
			mu.Unlock()
		}
	}()

	raw := "postgres://nobody:Secr3t-Pw@" + ln.Addr().String() + "/x?pool_timeout=1&sslmode=disable"
	cfg, err := store.ParseDatabaseURL(raw, t.TempDir())
	require.NoError(t, err)
	require.Equal(t, time.Second, cfg.PoolTimeout)
	db, err := store.Open(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })

	// The caller's own context is far longer: the store's bound must fire.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	err = db.Ping(ctx)
	require.ErrorIs(t, err, domain.ErrUnavailable)
	requireNoURL(t, err, raw)
}

func requireNoURL(t *testing.T, err error, raw string) {
	t.Helper()
	msg := err.Error()
	require.NotContains(t, msg, raw)
	require.NotContains(t, msg, "postgres://")
	require.NotContains(t, msg, "Secr3t-Pw")
}
