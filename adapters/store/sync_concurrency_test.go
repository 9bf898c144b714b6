package store_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/adapters/store"
	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
	"github.com/authbff/authbff/test/testenv"
)

// TestConcurrentSyncsOfOneOrganizationsMembers: members of the same
// organizations sign in at once while the IdP's name for those
// organizations keeps changing. A change to an organization clears every
// member's snapshot (a trigger updates their rows), so a sync that locked
// its own user row before the organization would deadlock with another
// member's; every sync must succeed and every member's view must match the
// last names written.
func TestConcurrentSyncsOfOneOrganizationsMembers(t *testing.T) {
	testenv.RequirePostgres(t)
	db := testenv.NewPostgres(t)
	users := store.NewUserStore(db)
	const members, rounds = 8, 6
	subjects := make([]string, members)
	for i := range subjects {
		subjects[i] = domain.NewID()
	}
	var wg sync.WaitGroup
	errs := make(chan error, members*rounds)
	for i := range members {
		wg.Go(func() {
			for r := range rounds {
				_, err := users.SyncIdentity(t.Context(), ports.IdentitySync{
					Provider: "keycloak", Subject: subjects[i], Name: fmt.Sprintf("Member %d", i),
					Email: fmt.Sprintf("m%d-%s@example.test", i, subjects[i][:8]),
					Organizations: []domain.Organization{
						{Alias: "acme", Name: fmt.Sprintf("Acme %d-%d", i, r), ExternalID: "kc-acme"},
						{Alias: "globex", Name: fmt.Sprintf("Globex %d-%d", i, r), ExternalID: "kc-globex"},
					},
					Now: time.Now(),
				})
				if err != nil {
					errs <- fmt.Errorf("member %d round %d: %w", i, r, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	var stale int
	require.NoError(t, db.QueryRowContext(t.Context(), `SELECT count(*) FROM users u
		WHERE u.orgs_view IS NOT NULL AND u.orgs_view NOT LIKE '%' || (SELECT name FROM organizations WHERE alias = 'acme') || '%'`).
		Scan(&stale))
	require.Zero(t, stale, "no member keeps a snapshot with an old organization name")
}
