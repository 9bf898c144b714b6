package store_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/adapters/store"
	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
	"github.com/authbff/authbff/test/testenv"
)

// TestCappedSavesFromTwoReplicasNeverPassTheCap: two replicas (two pools on
// one PostgreSQL database) save login flows at once, 20 each, under a cap
// of 10. Within a replica capped saves take turns, so only the advisory
// lock keeps the two replicas from both counting 9 and both inserting.
func TestCappedSavesFromTwoReplicasNeverPassTheCap(t *testing.T) {
	testenv.RequirePostgres(t)
	a, b := replicas(t)
	const limit, perReplica = 10, 20
	now := time.Now()
	start := make(chan struct{})
	errs := make(chan error, 2*perReplica)
	var wg sync.WaitGroup
	for _, db := range []*store.DB{a, b} {
		flows := store.NewLoginFlowStore(db)
		for range perReplica {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs <- flows.Save(t.Context(), domain.LoginFlow{State: domain.NewID(), Nonce: "n", PKCEVerifier: "v",
					Provider: "keycloak", BrowserBinding: domain.HashSecret(domain.NewID()), CreatedAt: now,
					Expires: now.Add(domain.LoginFlowTTL)}, limit)
			}()
		}
	}
	close(start)
	wg.Wait()
	close(errs)
	saved := 0
	for err := range errs {
		if err == nil {
			saved++
			continue
		}
		require.ErrorIs(t, err, ports.ErrTooManyPendingLoginFlows)
	}
	n, err := store.NewLoginFlowStore(a).CountPending(t.Context(), now)
	require.NoError(t, err)
	require.EqualValues(t, limit, n)
	require.Equal(t, limit, saved)
}
