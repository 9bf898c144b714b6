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

func TestCountOrganizations(t *testing.T) {
	for name, newDB := range map[string]func(testing.TB) *store.DB{"postgres": testenv.NewPostgres, "sqlite": testenv.NewSQLite} {
		t.Run("dialect="+name, func(t *testing.T) {
			if name == "postgres" {
				testenv.RequirePostgres(t)
			}
			db := newDB(t)
			total, missing, err := store.CountOrganizations(t.Context(), db)
			require.NoError(t, err)
			require.Equal(t, [2]int{0, 0}, [2]int{total, missing})
			_, err = store.NewUserStore(db).SyncIdentity(t.Context(), ports.IdentitySync{Provider: "keycloak", Subject: "s1",
				Organizations: []domain.Organization{{Alias: "acme", ExternalID: "kc-acme"}, {Alias: "globex"}, {Alias: "initech"}},
				Now:           time.Now()})
			require.NoError(t, err)
			total, missing, err = store.CountOrganizations(t.Context(), db)
			require.NoError(t, err)
			require.Equal(t, [2]int{3, 2}, [2]int{total, missing})
		})
	}
}
