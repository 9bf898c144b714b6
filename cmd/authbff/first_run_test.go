package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/domain"
)

// An operator command run where there is no database says what to run and
// leaves nothing behind: no empty SQLite file, no data folder, no generated
// secret.
func TestSessionsStatsWithoutADatabaseSaysWhatToRun(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	for _, args := range [][]string{{"sessions", "stats"}, {"sessions", "cleanup"}, {"validate"}} {
		_, err := cli(t, map[string]string{"AUTH_DATA_DIR": dataDir}, args...)
		require.Error(t, err, args)
		require.ErrorIs(t, err, errNoDatabase, args)
		require.Contains(t, err.Error(), "authbff migrate up")
		require.NotContains(t, err.Error(), "no such table")
		require.NotContains(t, err.Error(), "\n", "one line")
		_, statErr := os.Stat(dataDir)
		require.True(t, os.IsNotExist(statErr), "%v created the data folder", args)
	}
}

// A database file without authbff's tables (created by hand, or by another
// tool) is named as unmigrated instead of failing on "no such table".
func TestSessionsStatsOnAnUnmigratedDatabase(t *testing.T) {
	dataDir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dataDir, "authbff.db"), nil, 0o600))
	_, err := cli(t, map[string]string{"AUTH_DATA_DIR": dataDir}, "sessions", "stats")
	require.ErrorContains(t, err, "no authbff schema yet")
	require.ErrorContains(t, err, "run `authbff migrate up` first")

	_, err = cli(t, map[string]string{"AUTH_DATA_DIR": dataDir}, "migrate", "up")
	require.NoError(t, err)
	out, err := cli(t, map[string]string{"AUTH_DATA_DIR": dataDir}, "sessions", "stats", "--json")
	require.NoError(t, err)
	var st map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &st))
	require.EqualValues(t, 0, st["total"])
}

func TestStatsJSONRoundsTheAverage(t *testing.T) {
	b, err := json.Marshal(statsJSON(domain.SessionStats{AverageDurationHours: 8.00000000372529}))
	require.NoError(t, err)
	require.Contains(t, string(b), `"averageDurationHours":8,`)
	b, err = json.Marshal(statsJSON(domain.SessionStats{AverageDurationHours: 2.3456}))
	require.NoError(t, err)
	require.Contains(t, string(b), `"averageDurationHours":2.35,`)
}

// A busy port is one line naming LISTEN_ADDR and PORT, before fx starts
// anything (so no rollback lines).
func TestServeOnABusyPortNamesTheVariable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	logs := &syncBuffer{}
	err = run(context.Background(), []string{"serve"}, logs, logs,
		envOf(map[string]string{"LISTEN_ADDR": ln.Addr().String(), "AUTH_DATA_DIR": t.TempDir()}))
	require.Error(t, err)
	require.Contains(t, err.Error(), "already in use")
	require.Contains(t, err.Error(), "LISTEN_ADDR or PORT")
	require.NotContains(t, err.Error(), "\n")
	require.NotContains(t, logs.String(), "rolling back")
	require.NotContains(t, logs.String(), "OnStart")
}

// serve says where to sign in, and that URL starts a sign-in that ends on
// the session.
func TestServePrintsWhereToSignIn(t *testing.T) {
	base, logs := startServe(t, map[string]string{})
	var signIn string
	for _, line := range strings.Split(logs.String(), "\n") {
		if rest, ok := strings.CutPrefix(line, "sign in at "); ok {
			signIn = rest
		}
	}
	want := base + "/api/auth/signin?callbackUrl=" + url.QueryEscape(base+"/api/auth/session")
	require.Equal(t, want, signIn)
	require.Contains(t, logs.String(), `"sign_in_url":"`+want+`"`)

	resp, err := http.Get(signIn)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "the sign-in page answers")
}
