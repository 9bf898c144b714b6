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

// cachedOn reads the session's view on db until an unannounced change (the
// user agent, which GET /session does not render) stays invisible: proof the
// view is served from db's cache.
func cachedOn(t *testing.T, db *store.DB, sessions ports.SessionStore, s *domain.Session, token domain.SessionToken) {
	t.Helper()
	require.Eventually(t, func() bool {
		if _, err := sessions.LookupView(t.Context(), token.Hash()); err != nil {
			return false
		}
		ua := "probe-" + domain.NewID()
		if _, err := db.ExecContext(t.Context(), "UPDATE sessions SET user_agent = ? WHERE id = ?", ua, s.ID()); err != nil {
			return false
		}
		v, err := sessions.LookupView(t.Context(), token.Hash())
		return err == nil && v.Session.UserAgent() != ua
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
	in.Roles = []domain.Role{{Name: "auditor", Source: "realm"}}
	_, err = usersA.SyncIdentity(ctx, in)
	require.NoError(t, err)
	d = seenWithin(t, func() bool {
		v, err := sessB.LookupView(ctx, tok2.Hash())
		return err == nil && len(v.Roles) == 1 && v.Roles[0].Name == "auditor"
	})
	t.Logf("role resync on replica A seen by replica B after %s", d.Round(time.Microsecond))

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
	ua := "after-reconnect-" + domain.NewID()
	_, err = a.ExecContext(ctx, "UPDATE sessions SET user_agent = ? WHERE id = ?", ua, s2.ID())
	require.NoError(t, err)
	v, err := sessB.LookupView(context.WithoutCancel(ctx), tok2.Hash())
	require.NoError(t, err)
	require.Equal(t, ua, v.Session.UserAgent(), "the cache came back empty: nothing from before the drop is served")
}
