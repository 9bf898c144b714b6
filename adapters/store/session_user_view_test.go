package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/adapters/store"
	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
	"github.com/authbff/authbff/test/testenv"
)

// TestSessionUserViewFollowsTheUserRow: the copy of the user's view on each
// session row (what makes the session read one row) follows every change of
// the user row, whoever makes it: a sync, an operator's SQL renaming the
// user, a role removed behind the sync's back (the copy is cleared and the
// read falls back to the normalised tables), and the next sync fills it in
// again. Without the session cache, so every read is the database's answer.
func TestSessionUserViewFollowsTheUserRow(t *testing.T) {
	for _, d := range []struct {
		name  string
		newDB func(testing.TB) *store.DB
	}{{store.Postgres, testenv.NewPostgres}, {store.SQLite, testenv.NewSQLite}} {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			if d.name == store.Postgres {
				testenv.RequirePostgres(t)
			}
			db := d.newDB(t)
			ctx := t.Context()
			users, sessions := store.NewUserStore(db), store.NewSessionStore(db)
			in := ports.IdentitySync{Provider: "keycloak", Subject: domain.NewID(), Name: "Ada", Email: "ada@example.test",
				Roles:         []domain.Role{{Name: "admin", Source: "realm"}, {Name: "user", Source: "realm"}},
				Organizations: []domain.Organization{{Alias: "acme", Name: "Acme", ExternalID: "kc-acme"}}, Now: time.Now()}
			user, err := users.SyncIdentity(ctx, in)
			require.NoError(t, err)
			s, token, err := domain.NewSession(domain.NewSessionParams{UserID: user.ID, Provider: "keycloak"},
				domain.DefaultSessionPolicy(), time.Now())
			require.NoError(t, err)
			require.NoError(t, sessions.Create(ctx, s))

			copied := func() bool {
				var n int
				require.NoError(t, db.NewRaw(`SELECT count(*) FROM sessions WHERE id = ? AND user_view IS NOT NULL`, s.ID()).Scan(ctx, &n))
				return n == 1
			}
			read := func() ports.SessionView {
				v, err := sessions.LookupView(ctx, token.Hash())
				require.NoError(t, err)
				return v
			}
			require.True(t, copied(), "a new session copies its user's view")
			v := read()
			require.Equal(t, "Ada", v.User.Name)
			require.Equal(t, "ada@example.test", v.User.Email)
			require.Len(t, v.Roles, 2)
			require.Len(t, v.Organizations, 1)
			require.Equal(t, "kc-acme", v.Organizations[0].ExternalID)

			_, err = db.ExecContext(ctx, `UPDATE users SET name = ? WHERE id = ?`, "Ada Lovelace", user.ID)
			require.NoError(t, err)
			require.True(t, copied())
			require.Equal(t, "Ada Lovelace", read().User.Name, "an operator's rename reaches the copy")

			_, err = db.ExecContext(ctx, `DELETE FROM user_roles WHERE user_id = ? AND role_id IN (SELECT id FROM roles WHERE name = 'admin')`, user.ID)
			require.NoError(t, err)
			require.False(t, copied(), "a membership changed behind the sync's back clears the copy")
			v = read()
			require.Equal(t, []domain.Role{{Name: "user", Source: "realm"}}, v.Roles, "read from the normalised tables")
			require.Equal(t, "Ada Lovelace", v.User.Name)

			in.Name, in.Roles = "Ada Lovelace", []domain.Role{{Name: "auditor", Source: "realm"}}
			_, err = users.SyncIdentity(ctx, in)
			require.NoError(t, err)
			require.True(t, copied(), "the next sync fills the copy in again")
			require.Equal(t, []domain.Role{{Name: "auditor", Source: "realm"}}, read().Roles)
		})
	}
}
