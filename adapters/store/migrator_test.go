package store_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/adapters/store"
	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
	"github.com/authbff/authbff/test/testenv"
)

// emptyDatabases returns, per dialect, a constructor of an empty (not
// migrated) database. The postgres one skips without TEST_DATABASE_URL.
func emptyDatabases() map[string]func(t *testing.T) *store.DB {
	return map[string]func(t *testing.T) *store.DB{
		store.Postgres: func(t *testing.T) *store.DB { return openURL(t, testenv.NewPostgresURL(t)) },
		store.SQLite: func(t *testing.T) *store.DB {
			return openURL(t, "sqlite:"+filepath.Join(t.TempDir(), "empty.db"))
		},
	}
}

func openURL(t testing.TB, rawURL string) *store.DB {
	t.Helper()
	cfg, err := store.ParseDatabaseURL(rawURL, t.TempDir())
	require.NoError(t, err)
	db, err := store.Open(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func TestMigrationsUpDownUp(t *testing.T) {
	for dialect, newDB := range emptyDatabases() {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			db := newDB(t)
			ctx := t.Context()
			m, err := store.NewMigrator(db)
			require.NoError(t, err)
			health := store.NewHealth(db, m)

			status, err := m.Status(ctx)
			require.NoError(t, err)
			require.NotEmpty(t, status)
			for _, s := range status {
				require.False(t, s.Applied, "%s applied on an empty database", s.Name)
			}
			require.Error(t, health.Check(ctx), "pending migrations make the database unready")

			applied, err := m.Up(ctx)
			require.NoError(t, err)
			require.Len(t, applied, len(status))
			status, err = m.Status(ctx)
			require.NoError(t, err)
			names := map[string]bool{}
			for _, s := range status {
				require.True(t, s.Applied, "%s not applied after up", s.Name)
				require.False(t, s.AppliedAt.IsZero(), "%s has no applied time", s.Name)
				names[s.Name] = true
			}
			for _, n := range applied {
				require.True(t, names[n], "up applied %q, which status does not list", n)
			}
			pending, err := m.Pending(ctx)
			require.NoError(t, err)
			require.Empty(t, pending)
			require.NoError(t, health.Check(ctx))
			useStores(t, db)

			again, err := m.Up(ctx)
			require.NoError(t, err)
			require.Empty(t, again, "a second up applies nothing")

			rolledBack, err := m.Down(ctx, true)
			require.NoError(t, err)
			require.ElementsMatch(t, applied, rolledBack)
			status, err = m.Status(ctx)
			require.NoError(t, err)
			for _, s := range status {
				require.False(t, s.Applied, "%s still applied after down", s.Name)
			}
			_, err = store.NewLoginFlowStore(db).CountPending(ctx, time.Now())
			require.Error(t, err, "down removes the tables")

			applied, err = m.Up(ctx)
			require.NoError(t, err)
			require.Len(t, applied, len(status))
			useStores(t, db)
		})
	}
}

// useStores writes and reads through every table the migrations create.
func useStores(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := t.Context()
	in := ports.IdentitySync{Provider: "keycloak", Subject: domain.NewID(), Email: domain.NewID()[:8] + "@example.com", Now: now,
		Roles: []domain.Role{{Name: "admin", Source: domain.RoleSourceRealm}}, Organizations: []domain.Organization{{Alias: "acme"}}}
	u, err := store.NewUserStore(db).SyncIdentity(ctx, in)
	require.NoError(t, err)
	s, token, err := domain.NewSession(domain.NewSessionParams{UserID: u.ID}, domain.DefaultSessionPolicy(), now)
	require.NoError(t, err)
	require.NoError(t, store.NewSessionStore(db).Create(ctx, s))
	view, err := store.NewSessionStore(db).Lookup(ctx, token.Hash())
	require.NoError(t, err)
	require.Equal(t, u.ID, view.User.ID)
	_, err = store.NewSessionMaintenance(db).Stats(ctx, now)
	require.NoError(t, err)
	require.NoError(t, store.NewLoginFlowStore(db).Save(ctx, domain.LoginFlow{State: domain.NewID(), Expires: now}, 0))
	require.NoError(t, store.NewVerificationTokenStore(db).Save(ctx, domain.VerificationToken{Identifier: "x", TokenHash: "h", Expires: now}))
}
