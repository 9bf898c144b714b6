package application_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/application"
)

func TestCountUsersCountsSignedInUsers(t *testing.T) {
	w := newWorld(t)
	count := application.NewCountUsersHandler(w.users)
	n, err := count.Handle(context.Background())
	require.NoError(t, err)
	require.Zero(t, n)

	w.signedIn(t)
	w.signedIn(t) // bob again: the same user
	n, err = count.Handle(context.Background())
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
}
