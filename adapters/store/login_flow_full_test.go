package store

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
)

// TestAFullCapIsRememberedUntilAFlowIsConsumed: once a count has found the
// cap reached, saves are refused without counting (a flood at the cap
// would otherwise cost the database a count of every pending flow per
// request), for fullFor, or until this store consumes a flow.
func TestAFullCapIsRememberedUntilAFlowIsConsumed(t *testing.T) {
	db := openSQLiteForTest(t)
	s := NewLoginFlowStore(db)
	s.fullFor = time.Hour
	now := time.Now()
	flow := func() domain.LoginFlow {
		return domain.LoginFlow{State: domain.NewID(), Nonce: "n", PKCEVerifier: "v", Provider: "keycloak",
			BrowserBinding: domain.HashSecret("b"), CreatedAt: now, Expires: now.Add(domain.LoginFlowTTL)}
	}
	first := flow()
	require.NoError(t, s.Save(t.Context(), first, 1))
	require.ErrorIs(t, s.Save(t.Context(), flow(), 1), ports.ErrTooManyPendingLoginFlows)

	// Another process frees the place: this store keeps refusing without
	// looking, for fullFor.
	_, err := db.NewDelete().Table("login_flows").Where("1 = 1").Exec(t.Context())
	require.NoError(t, err)
	require.ErrorIs(t, s.Save(t.Context(), flow(), 1), ports.ErrTooManyPendingLoginFlows, "refused from memory")
	s.fullFor = 0
	require.NoError(t, s.Save(t.Context(), flow(), 1), "counted again once fullFor is over")

	// At the cap again; consuming a flow here frees the place at once.
	s.fullFor = time.Hour
	second := flow()
	_, err = db.NewDelete().Table("login_flows").Where("1 = 1").Exec(t.Context())
	require.NoError(t, err)
	require.NoError(t, s.Save(t.Context(), second, 1))
	require.ErrorIs(t, s.Save(t.Context(), flow(), 1), ports.ErrTooManyPendingLoginFlows)
	_, err = s.Consume(t.Context(), second.State, second.BrowserBinding, now)
	require.NoError(t, err)
	require.NoError(t, s.Save(t.Context(), flow(), 1), "a consumed flow frees its place at once")
}

// openSQLiteForTest opens a fresh, migrated SQLite database (testenv, which
// does this elsewhere, imports this package).
func openSQLiteForTest(t *testing.T) *DB {
	t.Helper()
	cfg, err := ParseDatabaseURL("sqlite:"+t.TempDir()+"/authbff.db", t.TempDir())
	require.NoError(t, err)
	db, err := Open(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	m, err := NewMigrator(db)
	require.NoError(t, err)
	_, err = m.Up(t.Context())
	require.NoError(t, err)
	return db
}
