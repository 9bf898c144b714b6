package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/adapters/store"
	"github.com/authbff/authbff/ports"
	"github.com/authbff/authbff/test/contract"
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
	saved := contract.SaveAtOnce(t, []ports.LoginFlowStore{store.NewLoginFlowStore(a), store.NewLoginFlowStore(b)},
		perReplica, limit, now)
	n, err := store.NewLoginFlowStore(a).CountPending(t.Context(), now)
	require.NoError(t, err)
	require.EqualValues(t, limit, n)
	require.Equal(t, limit, saved)
}
