package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCLIUsersCount(t *testing.T) {
	vars := map[string]string{"AUTH_DATA_DIR": t.TempDir()}
	_, err := cli(t, vars, "users", "count")
	require.ErrorIs(t, err, errNoDatabase)
	_, err = cli(t, vars, "migrate", "up")
	require.NoError(t, err)
	out, err := cli(t, vars, "users", "count")
	require.NoError(t, err)
	require.Equal(t, "0 users\n", out)
}
