package store_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/adapters/store"
	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
	"github.com/authbff/authbff/test/testenv"
)

// TestStalledDatabaseAnswersUnavailableAndRecovers: PostgreSQL stops
// answering, its connections left open (a TCP proxy holds every byte). The
// session reads made meanwhile, enough at once that both read lanes hang and
// the rest queue behind them, each end with domain.ErrUnavailable (a 503)
// when the pool timeout passes: none hangs, and none answers "not found",
// which would sign its user out. Once the database answers again, reads work
// without a restart.
func TestStalledDatabaseAnswersUnavailableAndRecovers(t *testing.T) {
	testenv.RequirePostgres(t)
	t.Parallel()
	ctx := t.Context()
	u, err := url.Parse(testenv.NewPostgresURL(t))
	require.NoError(t, err)
	proxy := testenv.NewStallProxy(t, u.Host)
	u.Host = proxy.Addr()
	q := u.Query()
	q.Set("pool_timeout", "1")
	q.Set("connection_limit", "10")
	u.RawQuery = q.Encode()
	cfg, err := store.ParseDatabaseURL(u.String(), t.TempDir())
	require.NoError(t, err)
	db, err := store.Open(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	m, err := store.NewMigrator(db)
	require.NoError(t, err)
	_, err = m.Up(ctx)
	require.NoError(t, err)

	users, sessions := store.NewUserStore(db), store.NewSessionStore(db)
	user, err := users.SyncIdentity(ctx, ports.IdentitySync{Provider: "keycloak", Subject: domain.NewID(),
		Name: "Ada", Email: "ada@example.test", Now: time.Now()})
	require.NoError(t, err)
	s, token, err := domain.NewSession(domain.NewSessionParams{UserID: user.ID, Provider: "keycloak"},
		domain.DefaultSessionPolicy(), time.Now())
	require.NoError(t, err)
	require.NoError(t, sessions.Create(ctx, s))
	_, err = sessions.LookupView(ctx, token.Hash())
	require.NoError(t, err)

	proxy.Stall()
	const readers = 40
	results := make(chan error, readers)
	start := time.Now()
	for range readers {
		go func() {
			_, err := sessions.LookupView(ctx, token.Hash())
			results <- err
		}()
	}
	for range readers {
		require.ErrorIs(t, <-results, domain.ErrUnavailable)
	}
	t.Logf("%d reads during the stall: all unavailable, the last after %s (pool timeout 1 s)", readers,
		time.Since(start).Round(time.Millisecond))

	proxy.Resume()
	require.Eventually(t, func() bool {
		v, err := sessions.LookupView(ctx, token.Hash())
		return err == nil && v.User.Name == "Ada"
	}, 30*time.Second, 20*time.Millisecond, "reads work again once the database answers")
}
