package store_test

import (
	"testing"

	"github.com/authbff/authbff/adapters/store"
	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
	"github.com/authbff/authbff/test/testenv"
)

// BenchmarkLookup measures the per-request read: one session by token hash
// with its user, roles and organizations, among 1000 sessions on PostgreSQL.
func BenchmarkLookup(b *testing.B) {
	db := testenv.NewPostgres(b)
	ctx := b.Context()
	users, sessions := store.NewUserStore(db), store.NewSessionStore(db)

	const n = 1000
	hashes := make([]domain.TokenHash, 0, n)
	var userID string
	for i := 0; i < n; i++ {
		if i%10 == 0 { // 100 users with 10 sessions each
			in := ports.IdentitySync{Provider: "keycloak", Subject: domain.NewID(), Name: "Bench User", Now: now,
				Roles: []domain.Role{
					{Name: "user", Source: domain.RoleSourceRealm}, {Name: "admin", Source: domain.RoleSourceRealm},
					{Name: "viewer", Source: domain.ClientRoleSource("web_app")},
				},
				Organizations: []domain.Organization{{Alias: "acme"}, {Alias: "globex", TenantID: "t-globex"}}}
			u, err := users.SyncIdentity(ctx, in)
			if err != nil {
				b.Fatal(err)
			}
			userID = u.ID
		}
		s, token, err := domain.NewSession(domain.NewSessionParams{UserID: userID, Provider: "keycloak",
			Tokens: domain.SealedTokens{AccessToken: make([]byte, 1200), RefreshToken: make([]byte, 800), IDToken: make([]byte, 1200)}},
			domain.DefaultSessionPolicy(), now)
		if err != nil {
			b.Fatal(err)
		}
		if err := sessions.Create(ctx, s); err != nil {
			b.Fatal(err)
		}
		hashes = append(hashes, token.Hash())
	}

	i := 0
	for b.Loop() {
		if _, err := sessions.Lookup(ctx, hashes[i%n]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
