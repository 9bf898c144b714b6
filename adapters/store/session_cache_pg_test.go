package store_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/adapters/store"
	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
	"github.com/authbff/authbff/test/testenv"
)

// replicas opens two handles on one PostgreSQL database, each with its own
// session cache and change listener: two authbff replicas.
func replicas(t *testing.T) (a, b *store.DB) {
	t.Helper()
	url := testenv.NewPostgresURL(t)
	var dbs [2]*store.DB
	for i := range dbs {
		cfg, err := store.ParseDatabaseURL(url, t.TempDir())
		require.NoError(t, err)
		cfg.SessionCache = testenv.TestCache
		db, err := store.Open(cfg)
		require.NoError(t, err)
		t.Cleanup(func() { _ = db.Close() })
		if i == 0 {
			m, err := store.NewMigrator(db)
			require.NoError(t, err)
			_, err = m.Up(t.Context())
			require.NoError(t, err)
		}
		db.StartChangeListener(slog.New(slog.DiscardHandler))
		require.Eventually(t, db.SessionCacheServing, 30*time.Second, 5*time.Millisecond)
		dbs[i] = db
	}
	return dbs[0], dbs[1]
}

// quietly moves a session's expiry by a second with the triggers off
// (session_replication_role = replica), so no replica hears of it: a read
// that still shows the old expiry was served from a cache.
func quietly(t *testing.T, db *store.DB, s *domain.Session) {
	t.Helper()
	tx, err := db.BeginTx(t.Context(), nil)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback() }()
	_, err = tx.ExecContext(t.Context(), "SET LOCAL session_replication_role = replica")
	require.NoError(t, err)
	_, err = tx.ExecContext(t.Context(), "UPDATE sessions SET expires = expires + interval '1 second' WHERE id = ?", s.ID())
	require.NoError(t, err)
	require.NoError(t, tx.Commit())
}

// cachedOn reads the session's view on a replica until an unannounced change
// stays invisible there: proof the view is served from its cache.
func cachedOn(t *testing.T, db *store.DB, sessions ports.SessionStore, s *domain.Session, token domain.SessionToken) {
	t.Helper()
	require.Eventually(t, func() bool {
		before, err := sessions.LookupView(t.Context(), token.Hash())
		if err != nil {
			return false
		}
		quietly(t, db, s)
		after, err := sessions.LookupView(t.Context(), token.Hash())
		return err == nil && after.Session.Expires().Equal(before.Session.Expires())
	}, 10*time.Second, 5*time.Millisecond, "the view is served from the cache")
}

// seenWithin polls until cond holds and returns how long that took.
func seenWithin(t *testing.T, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	require.Eventually(t, cond, 10*time.Second, time.Millisecond)
	return time.Since(start)
}

// TestSessionCacheAcrossReplicas: a change committed through one replica
// (or by plain SQL) empties the other replica's cached copy through
// PostgreSQL's notifications, well before the TTL (a minute here); a replica
// whose listener connection is killed serves nothing from its cache until it
// listens again. The delays are printed, not asserted.
func TestSessionCacheAcrossReplicas(t *testing.T) {
	testenv.RequirePostgres(t)
	a, b := replicas(t)
	ctx := t.Context()
	usersA, sessA, sessB := store.NewUserStore(a), store.NewSessionStore(a), store.NewSessionStore(b)
	in := ports.IdentitySync{Provider: "keycloak", Subject: domain.NewID(), Name: "Rep", Email: domain.NewID() + "@example.test",
		Roles: []domain.Role{{Name: "user", Source: "realm"}}, Now: time.Now()}
	user, err := usersA.SyncIdentity(ctx, in)
	require.NoError(t, err)
	newSess := func() (*domain.Session, domain.SessionToken) {
		s, tok, err := domain.NewSession(domain.NewSessionParams{UserID: user.ID, Provider: "keycloak"},
			domain.DefaultSessionPolicy(), time.Now())
		require.NoError(t, err)
		require.NoError(t, sessA.Create(ctx, s))
		return s, tok
	}

	s1, tok1 := newSess()
	cachedOn(t, b, sessB, s1, tok1)
	require.NoError(t, sessA.Delete(ctx, s1.ID()))
	d := seenWithin(t, func() bool {
		_, err := sessB.LookupView(ctx, tok1.Hash())
		return err != nil
	})
	t.Logf("revocation on replica A seen by replica B after %s", d.Round(time.Microsecond))

	s2, tok2 := newSess()
	cachedOn(t, b, sessB, s2, tok2)
	cached, err := sessB.LookupView(ctx, tok2.Hash())
	require.NoError(t, err)
	require.NotNil(t, cached.Rendered, "a cached view carries a render memo")
	cached.Rendered.Store([]byte(`{"rendered":"before the resync"}`))
	in.Roles = []domain.Role{{Name: "auditor", Source: "realm"}}
	_, err = usersA.SyncIdentity(ctx, in)
	require.NoError(t, err)
	d = seenWithin(t, func() bool {
		v, err := sessB.LookupView(ctx, tok2.Hash())
		return err == nil && len(v.Roles) == 1 && v.Roles[0].Name == "auditor"
	})
	t.Logf("role resync on replica A seen by replica B after %s", d.Round(time.Microsecond))
	resynced, err := sessB.LookupView(ctx, tok2.Hash())
	require.NoError(t, err)
	require.Nil(t, resynced.Rendered.Load(), "what was rendered before the resync went with the entry")

	cachedOn(t, b, sessB, s2, tok2)
	_, err = a.ExecContext(ctx, `DELETE FROM user_roles WHERE user_id = ?`, user.ID)
	require.NoError(t, err)
	d = seenWithin(t, func() bool {
		v, err := sessB.LookupView(ctx, tok2.Hash())
		return err == nil && len(v.Roles) == 0
	})
	t.Logf("an operator's SQL removing a role seen by replica B after %s", d.Round(time.Microsecond))

	cachedOn(t, b, sessB, s2, tok2)
	_, err = a.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE query = 'LISTEN authbff_sessions' AND datname = current_database()`)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return !b.SessionCacheServing() }, 10*time.Second, time.Millisecond,
		"a dropped listener turns the cache off")
	require.Eventually(t, b.SessionCacheServing, 30*time.Second, 5*time.Millisecond, "and it comes back")
	before, err := sessB.Lookup(ctx, tok2.Hash())
	require.NoError(t, err)
	quietly(t, a, s2)
	v, err := sessB.LookupView(context.WithoutCancel(ctx), tok2.Hash())
	require.NoError(t, err)
	require.Equal(t, before.Session.Expires().Add(time.Second), v.Session.Expires(),
		"the cache came back empty: nothing from before the drop is served")
}
