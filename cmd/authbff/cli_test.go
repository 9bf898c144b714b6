package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for checking with plain SQL
	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/test/testenv"
)

// cli runs one authbff command line against the given environment.
func cli(t *testing.T, vars map[string]string, args ...string) (string, error) {
	t.Helper()
	if _, ok := vars["AUTH_DATA_DIR"]; !ok {
		vars["AUTH_DATA_DIR"] = t.TempDir()
	}
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut, envOf(vars))
	return out.String(), err
}

func TestCLIMigrateUpDownStatusOnPostgres(t *testing.T) {
	url := testenv.NewPostgresURL(t)
	vars := map[string]string{"DATABASE_URL": url}

	out, err := cli(t, vars, "migrate", "status")
	require.NoError(t, err)
	require.Contains(t, out, "0 applied")

	out, err = cli(t, vars, "migrate", "up")
	require.NoError(t, err)
	require.Contains(t, out, "applied 20261127000001_schema")

	out, err = cli(t, vars, "migrate", "status")
	require.NoError(t, err)
	require.Contains(t, out, " 0 pending")
	require.NotContains(t, out, "pending\n2")

	out, err = cli(t, vars, "validate")
	require.NoError(t, err, out)
	require.Contains(t, out, "ok   schema complete")

	out, err = cli(t, vars, "migrate", "down", "--all")
	require.NoError(t, err)
	require.Contains(t, out, "rolled back")
	_, err = cli(t, vars, "validate")
	require.ErrorContains(t, err, "pending")

	_, err = cli(t, vars, "migrate", "up")
	require.NoError(t, err)
	_, err = cli(t, vars, "db", "validate")
	require.NoError(t, err)
}

func TestCLIValidateUnreachableDatabase(t *testing.T) {
	_, err := cli(t, map[string]string{"DATABASE_URL": "postgres://nobody:hunter2@127.0.0.1:1/x"}, "validate")
	require.Error(t, err)
	msg := err.Error()
	require.Contains(t, msg, "database unreachable")
	require.NotContains(t, msg, "hunter2")
	require.NotContains(t, msg, "\n", "one line")
}

func TestCLIRejectsBadConfigNamingTheVariable(t *testing.T) {
	_, err := cli(t, map[string]string{"AUTH_SESSION_MAX_AGE": "forever"}, "validate")
	var ec exitCode
	require.True(t, errors.As(err, &ec))
	require.Equal(t, 2, ec.code)
	require.Contains(t, err.Error(), "AUTH_SESSION_MAX_AGE")
}

func TestCLIDBResetRefusedInProduction(t *testing.T) {
	_, err := cli(t, map[string]string{
		"AUTH_ENV": "production", "AUTH_URL": "https://app.example.com/api/auth",
		"DATABASE_URL": "postgres://u@127.0.0.1:1/x", "AUTH_SECRET": strings.Repeat("k", 40),
		"AUTH_KEYCLOAK_ISSUER": "https://kc.example.com/realms/crm", "AUTH_KEYCLOAK_ID": "web_app", "AUTH_KEYCLOAK_SECRET": "x",
	}, "db", "reset", "--yes")
	require.ErrorContains(t, err, "refused in production")
}

// TestCLICleanupDeletesExactlyTheExpired fills PostgreSQL with 100k expired and
// 100k live sessions, runs `sessions cleanup` in batches and checks that
// exactly the expired ones are gone, and that `sessions stats` matches SQL.
func TestCLICleanupDeletesExactlyTheExpired(t *testing.T) {
	url := testenv.NewPostgresURL(t)
	vars := map[string]string{"DATABASE_URL": url}
	_, err := cli(t, vars, "migrate", "up")
	require.NoError(t, err)

	db, err := sql.Open("pgx", url)
	require.NoError(t, err)
	defer db.Close()
	ctx := context.Background()
	_, err = db.ExecContext(ctx, `INSERT INTO users (id, name, email) VALUES ('00000000-0000-4000-8000-000000000001', 'Load', 'load@example.com')`)
	require.NoError(t, err)
	// 100k expired (half by idle expiry, half by absolute expiry) and 100k live.
	_, err = db.ExecContext(ctx, `INSERT INTO sessions (id, token_hash, user_id, expires, absolute_expires, created_at)
	SELECT gen_random_uuid(), md5('e' || g), '00000000-0000-4000-8000-000000000001',
	       CASE WHEN g % 2 = 0 THEN now() - interval '1 minute' ELSE now() + interval '1 hour' END,
	       CASE WHEN g % 2 = 0 THEN now() + interval '1 hour' ELSE now() - interval '1 second' END,
	       now() - interval '9 hours'
	FROM generate_series(1, 100000) g`)
	require.NoError(t, err)
	_, err = db.ExecContext(ctx, `INSERT INTO sessions (id, token_hash, user_id, expires, absolute_expires, created_at)
	SELECT gen_random_uuid(), md5('l' || g), '00000000-0000-4000-8000-000000000001',
	       now() + interval '8 hours', now() + interval '24 hours', now() - interval '30 minutes'
	FROM generate_series(1, 100000) g`)
	require.NoError(t, err)

	out, err := cli(t, vars, "sessions", "stats", "--json")
	require.NoError(t, err)
	var st map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &st))
	var total, active int64
	var avg float64
	require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE expires > now() AND absolute_expires > now()),
		avg(extract(epoch FROM expires - created_at)) / 3600 FROM sessions`).Scan(&total, &active, &avg))
	require.EqualValues(t, total, st["total"])
	require.EqualValues(t, active, st["active"])
	require.EqualValues(t, total-active, st["expired"])
	require.InDelta(t, avg, st["averageDurationHours"], 0.01)
	require.EqualValues(t, 200000, total)
	require.EqualValues(t, 100000, active)

	out, err = cli(t, vars, "sessions", "cleanup", "--batch", "5000")
	require.NoError(t, err)
	require.Contains(t, out, "deleted 100000 expired sessions")

	var left, leftLive int64
	require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE expires > now() AND absolute_expires > now()) FROM sessions`).Scan(&left, &leftLive))
	require.EqualValues(t, 100000, left)
	require.EqualValues(t, 100000, leftLive)
}

// TestCLISessionsRevoke ends every session of a user found by email.
func TestCLISessionsRevoke(t *testing.T) {
	url := testenv.NewPostgresURL(t)
	vars := map[string]string{"DATABASE_URL": url}
	_, err := cli(t, vars, "migrate", "up")
	require.NoError(t, err)
	db, err := sql.Open("pgx", url)
	require.NoError(t, err)
	defer db.Close()
	ctx := context.Background()
	_, err = db.ExecContext(ctx, `INSERT INTO users (id, name, email) VALUES
		('00000000-0000-4000-8000-00000000000a', 'A', 'a@example.com'), ('00000000-0000-4000-8000-00000000000b', 'B', 'b@example.com')`)
	require.NoError(t, err)
	_, err = db.ExecContext(ctx, `INSERT INTO sessions (id, token_hash, user_id, expires, absolute_expires)
	SELECT gen_random_uuid(), md5(u || g), u::uuid, now() + interval '1 hour', now() + interval '2 hours'
	FROM generate_series(1, 3) g, unnest(ARRAY['00000000-0000-4000-8000-00000000000a', '00000000-0000-4000-8000-00000000000b']) u`)
	require.NoError(t, err)

	out, err := cli(t, vars, "sessions", "revoke", "--user", "A@example.com")
	require.NoError(t, err)
	require.Equal(t, "revoked 3 session(s) of a@example.com (00000000-0000-4000-8000-00000000000a)\n", out)
	var left int
	require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM sessions`).Scan(&left))
	require.Equal(t, 3, left, "the other user's sessions stay")

	_, err = cli(t, vars, "sessions", "revoke", "--user", "nobody@example.com")
	require.ErrorContains(t, err, "user not found")
}
