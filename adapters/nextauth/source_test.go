package nextauth_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" to set up the source
	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/adapters/nextauth"
	"github.com/authbff/authbff/test/testenv"
)

func TestOverridesAreChecked(t *testing.T) {
	_, err := nextauth.NewSource("mysql://x", nextauth.Overrides{})
	require.ErrorContains(t, err, "postgres://")
	_, err = nextauth.NewSource("postgres://h/db", nextauth.Overrides{Tables: map[string]string{"sesions": "x"}})
	require.ErrorContains(t, err, "--table sesions: unknown table")
	_, err = nextauth.NewSource("postgres://h/db", nextauth.Overrides{Columns: map[string]string{"sessions.token": "x"}})
	require.ErrorContains(t, err, "--column sessions.token: unknown column")
	_, err = nextauth.NewSource("postgres://h/db?schema=app&connection_limit=5", nextauth.Overrides{
		Tables: map[string]string{"sessions": "s"}, Columns: map[string]string{"sessions.session_token": "t"}})
	require.NoError(t, err)
}

// A schema with both Prisma's "User" and pg-adapter's users is ambiguous:
// the error names both and the flag that settles it; Prisma's ?schema=
// picks the schema; a --table override settles it.
func TestIntrospectionOnPostgres(t *testing.T) {
	src := testenv.NewPostgresURL(t)
	db, err := sql.Open("pgx", src)
	require.NoError(t, err)
	defer db.Close()
	ctx := context.Background()
	_, err = db.ExecContext(ctx, `CREATE SCHEMA app;
		CREATE TABLE app."User" (id text PRIMARY KEY, email text);
		CREATE TABLE app.users (id serial PRIMARY KEY, email text);
		CREATE TABLE app."Account" ("userId" text, provider text, "providerAccountId" text);
		CREATE TABLE app."Session" ("sessionToken" text, "userId" text, expires timestamp(3));
		INSERT INTO app."User" VALUES ('u1', 'a@example.com');
		INSERT INTO app."Session" VALUES ('11111111-2222-4333-8444-555555555555', 'u1', (now() AT TIME ZONE 'UTC') + interval '1 day'),
		                                 ('66666666-2222-4333-8444-555555555555', 'u1', (now() AT TIME ZONE 'UTC') - interval '1 second')`)
	require.NoError(t, err)

	s, err := nextauth.NewSource(src+"&schema=app", nextauth.Overrides{})
	require.NoError(t, err)
	_, err = s.Read(ctx, time.Now())
	require.ErrorContains(t, err, `schema "app" has several users tables ("User", "users"): pick one with --table users=NAME`)

	s, err = nextauth.NewSource(src+"&schema=app", nextauth.Overrides{Tables: map[string]string{"users": "User"}})
	require.NoError(t, err)
	data, err := s.Read(ctx, time.Now())
	require.NoError(t, err)
	require.Len(t, data.Users, 1)
	require.Len(t, data.Found, 3, "no user_roles or user_organizations table: none read")
	require.Len(t, data.Sessions, 1, "the expired session is not read")
	require.Equal(t, "11111111-2222-4333-8444-555555555555", data.Sessions[0].Token)
	require.WithinDuration(t, time.Now().Add(24*time.Hour), data.Sessions[0].Expires, time.Minute,
		"timestamp without time zone is read as UTC, as Prisma writes it")

	_, err = db.ExecContext(ctx, `CREATE TABLE app.user_roles (user_id text, role_id int)`)
	require.NoError(t, err)
	_, err = s.Read(ctx, time.Now())
	require.ErrorContains(t, err, `table "user_roles" has no role column`)
	s, err = nextauth.NewSource(src+"&schema=app", nextauth.Overrides{Tables: map[string]string{"users": "User", "user_roles": "-"}})
	require.NoError(t, err)
	_, err = s.Read(ctx, time.Now())
	require.NoError(t, err, "an optional table of another shape can be skipped")
	s, err = nextauth.NewSource(src+"&schema=app", nextauth.Overrides{Tables: map[string]string{"users": "-"}})
	require.NoError(t, err)
	_, err = s.Read(ctx, time.Now())
	require.ErrorContains(t, err, "the users table cannot be skipped")

	s, err = nextauth.NewSource(src, nextauth.Overrides{})
	require.NoError(t, err)
	_, err = s.Read(ctx, time.Now())
	require.ErrorContains(t, err, `schema "public" has no users table`)
}
