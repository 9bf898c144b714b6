package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/adapters/store"
	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
	"github.com/authbff/authbff/test/testenv"
)

// TestImportTarget, on both dialects: new users land with the import's ids,
// users authbff already knows are found by account then by email, roles and
// organizations are created once, sessions are inserted once, and a repeated
// call writes and counts nothing.
func TestImportTarget(t *testing.T) {
	for name, newDB := range testenv.Databases() {
		t.Run(name, func(t *testing.T) {
			if name == store.Postgres {
				testenv.RequirePostgres(t)
			}
			ctx := context.Background()
			db := newDB(t)
			target, users, sessions := store.NewImportTarget(db), store.NewUserStore(db), store.NewSessionStore(db)

			// bob and carol signed in through authbff before the (merge) import.
			bob, err := users.SyncIdentity(ctx, ports.IdentitySync{Provider: "keycloak", Subject: "sub-bob", Email: "bob@example.com", Now: now})
			require.NoError(t, err)
			carol, err := users.SyncIdentity(ctx, ports.IdentitySync{Provider: "keycloak", Subject: "sub-carol-kc", Email: "carol@example.com", Now: now})
			require.NoError(t, err)

			aliceID := domain.DerivedID("user", "alice")
			batch := []ports.ImportUser{
				{SourceID: "alice", User: domain.User{ID: aliceID, Name: "Alice", Email: "alice@example.com"},
					Accounts: []domain.Account{{ID: domain.DerivedID("account", "a"), Type: "oidc", Provider: "keycloak", ProviderAccountID: "sub-alice"}},
					Roles:    []domain.Role{{Name: "admin", Source: domain.RoleSourceRealm}},
					Organizations: []domain.Organization{
						{ID: "org-1", Alias: "acme", Name: "Acme", TenantID: "t-acme"}, {ID: "org-2", Alias: "globex"}}},
				{SourceID: "bob", User: domain.User{ID: domain.DerivedID("user", "bob"), Email: "bob@example.com"},
					Accounts: []domain.Account{{ID: domain.DerivedID("account", "b"), Type: "oidc", Provider: "keycloak", ProviderAccountID: "sub-bob"}},
					Roles:    []domain.Role{{Name: "admin", Source: domain.RoleSourceRealm}}},
				{SourceID: "carol", User: domain.User{ID: domain.DerivedID("user", "carol"), Email: "carol@example.com"},
					Accounts: []domain.Account{{ID: domain.DerivedID("account", "c"), Type: "oidc", Provider: "github", ProviderAccountID: "gh-carol"}}},
			}
			landed, n, err := target.ImportUsers(ctx, batch)
			require.NoError(t, err)
			require.Equal(t, ports.ImportedUser{ID: aliceID, FirstOrganizationID: "org-1"}, landed["alice"])
			require.Equal(t, bob.ID, landed["bob"].ID, "matched by account")
			require.Equal(t, carol.ID, landed["carol"].ID, "matched by email")
			require.Equal(t, ports.ImportCounts{Users: 1, Accounts: 2, Roles: 2, Memberships: 2, Organizations: 2}, n)

			roles, err := users.Roles(ctx, aliceID)
			require.NoError(t, err)
			require.Equal(t, []domain.Role{{Name: "admin", Source: domain.RoleSourceRealm}}, roles)
			orgs, err := users.Organizations(ctx, aliceID)
			require.NoError(t, err)
			require.Len(t, orgs, 2)
			require.Equal(t, domain.Organization{ID: "org-1", Alias: "acme", Name: "Acme", TenantID: "t-acme"}, orgs[0])

			again, n, err := target.ImportUsers(ctx, batch)
			require.NoError(t, err)
			require.Equal(t, landed, again)
			require.Equal(t, ports.ImportCounts{}, n)

			tok := domain.SessionToken("3f2b9c1e-8d4a-4b6f-9e2d-7a1c5b8e0f3d")
			s, err := domain.NewImportedSession(tok, domain.NewSessionParams{UserID: aliceID, ActiveOrganizationID: "org-1",
				Provider: "keycloak", ProviderSessionID: "sid-1", Tokens: domain.SealedTokens{AccessToken: []byte("sealed"),
					AccessTokenExpiresAt: now.Add(5 * time.Minute)}, UserAgent: domain.ImportedUserAgent},
				now.Add(time.Hour), domain.DefaultSessionPolicy(), now)
			require.NoError(t, err)
			inserted, err := target.ImportSessions(ctx, []*domain.Session{s, s})
			require.NoError(t, err)
			require.EqualValues(t, 1, inserted)
			inserted, err = target.ImportSessions(ctx, []*domain.Session{s})
			require.NoError(t, err)
			require.Zero(t, inserted)

			view, err := sessions.Lookup(ctx, tok.Hash())
			require.NoError(t, err)
			require.Equal(t, aliceID, view.User.ID)
			require.Equal(t, "org-1", view.Session.ActiveOrganizationID())
			require.Equal(t, "sid-1", view.Session.ProviderSessionID())
			require.Equal(t, []byte("sealed"), view.Session.Tokens().AccessToken)
			require.True(t, view.Session.Expires().Equal(now.Add(time.Hour)))

			existing, err := target.Existing(ctx)
			require.NoError(t, err)
			require.Equal(t, ports.ImportCounts{Users: 3, Sessions: 1}, existing)

			// Ended in authbff (signed out, revoked): a later import never
			// brings it back from the source.
			require.NoError(t, sessions.Delete(ctx, view.Session.ID()))
			inserted, err = target.ImportSessions(ctx, []*domain.Session{s})
			require.NoError(t, err)
			require.Zero(t, inserted)
			_, err = sessions.Lookup(ctx, tok.Hash())
			require.ErrorIs(t, err, domain.ErrSessionNotFound)
		})
	}
}
