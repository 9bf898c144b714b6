package nextauth_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" to set up the source
	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/adapters/nextauth"
	"github.com/authbff/authbff/ports"
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
	_, err = readAll(t, s)
	require.ErrorContains(t, err, `schema "app" has several users tables ("User", "users"): pick one with --table users=NAME`)

	s, err = nextauth.NewSource(src+"&schema=app", nextauth.Overrides{Tables: map[string]string{"users": "User"}})
	require.NoError(t, err)
	data, sum, err := readAllSummary(t, s, 1000)
	require.NoError(t, err)
	require.Len(t, data.Users, 1)
	require.Len(t, sum.Found, 3, "no user_roles or user_organizations table: none read")
	require.Len(t, data.Sessions, 1, "the expired session is not read")
	require.Equal(t, "11111111-2222-4333-8444-555555555555", data.Sessions[0].Token)
	require.WithinDuration(t, time.Now().Add(24*time.Hour), data.Sessions[0].Expires, time.Minute,
		"timestamp without time zone is read as UTC, as Prisma writes it")

	_, err = db.ExecContext(ctx, `CREATE TABLE app.user_roles (user_id text, role_id int)`)
	require.NoError(t, err)
	_, err = readAll(t, s)
	require.ErrorContains(t, err, `table "user_roles" has no role column`)
	s, err = nextauth.NewSource(src+"&schema=app", nextauth.Overrides{Tables: map[string]string{"users": "User", "user_roles": "-"}})
	require.NoError(t, err)
	_, err = readAll(t, s)
	require.NoError(t, err, "an optional table of another shape can be skipped")
	s, err = nextauth.NewSource(src+"&schema=app", nextauth.Overrides{Tables: map[string]string{"users": "-"}})
	require.NoError(t, err)
	_, err = readAll(t, s)
	require.ErrorContains(t, err, "the users table cannot be skipped")

	s, err = nextauth.NewSource(src, nextauth.Overrides{})
	require.NoError(t, err)
	_, err = readAll(t, s)
	require.ErrorContains(t, err, `schema "public" has no users table`)
}

// readAll streams the whole source in batches of 1000 and joins them.
func readAll(t *testing.T, s *nextauth.Source) (ports.NextAuthData, error) {
	data, _, err := readAllSummary(t, s, 1000)
	return data, err
}

// readAllSummary streams the source in batches of size, checks that no
// user is in two batches and that every row is in its user's batch, and
// joins the batches.
func readAllSummary(t *testing.T, s *nextauth.Source, size int) (ports.NextAuthData, ports.NextAuthSummary, error) {
	t.Helper()
	var all ports.NextAuthData
	seen := map[string]bool{}
	sum, err := s.Stream(context.Background(), time.Now(), size, func(b ports.NextAuthData) error {
		require.LessOrEqual(t, len(b.Users), size)
		in := map[string]bool{}
		for _, u := range b.Users {
			require.False(t, seen[u.ID], "user %q in two batches", u.ID)
			seen[u.ID], in[u.ID] = true, true
		}
		for _, a := range b.Accounts {
			require.True(t, in[a.UserID], "account of %q outside its user's batch", a.UserID)
		}
		for _, x := range b.Sessions {
			require.True(t, in[x.UserID], "session of %q outside its user's batch", x.UserID)
		}
		for _, r := range b.Roles {
			require.True(t, in[r.UserID], "role of %q outside its user's batch", r.UserID)
		}
		for _, m := range b.Memberships {
			require.True(t, in[m.UserID], "membership of %q outside its user's batch", m.UserID)
		}
		all.Users = append(all.Users, b.Users...)
		all.Accounts = append(all.Accounts, b.Accounts...)
		all.Sessions = append(all.Sessions, b.Sessions...)
		all.Roles = append(all.Roles, b.Roles...)
		all.Memberships = append(all.Memberships, b.Memberships...)
		return nil
	})
	return all, sum, err
}

// TestStreamJoinsEveryRowToItsUser reads a source whose user ids sort
// differently by the database's collation and byte by byte (case, accents,
// digits, punctuation), with users of many rows, users of none, rows whose
// user does not exist (before, between and after the real ids) and an
// expired session, in batches of every size from 1 to past the whole table:
// every batch gets exactly its users' rows, the whole read equals what the
// tables hold, and the rows of missing users are counted.
func TestStreamJoinsEveryRowToItsUser(t *testing.T) {
	src := testenv.NewPostgresURL(t)
	db, err := sql.Open("pgx", src)
	require.NoError(t, err)
	defer db.Close()
	ids := []string{"a", "B", "b", "_x", "é", "e", "Z", "10", "9", "a b", "a-b", "ab", "user-1", "User-2", "ü"}
	orphanIDs := []string{"", "0", "aa", "zz", "\u00ff"}
	// The ids get a linguistic collation (ICU's root locale, where "B"
	// sorts between "a" and "c" and "é" beside "e"), as a database created
	// with en_US.UTF-8 has, when this PostgreSQL has ICU.
	coll := ""
	var icu bool
	require.NoError(t, db.QueryRow(`SELECT EXISTS (SELECT 1 FROM pg_collation WHERE collname = 'und-x-icu')`).Scan(&icu))
	if icu {
		coll = ` COLLATE "und-x-icu"`
	} else {
		t.Log("no ICU collation here: the ids use the database's own collation")
	}
	var sqlText strings.Builder
	sqlText.WriteString(strings.ReplaceAll(`CREATE TABLE users (id text COLL PRIMARY KEY, name text, email text);
		CREATE TABLE accounts (user_id text COLL, provider text, provider_account_id text, access_token text);
		CREATE TABLE sessions (session_token text, user_id text COLL, expires timestamptz);
		CREATE TABLE user_roles (user_id text COLL, role text);
		CREATE TABLE user_organizations (user_id text COLL, organization_id text, organization_alias text);
`, " COLL", coll))
	want := map[string]int{} // "table:user" → rows
	for i, id := range ids {
		q := "'" + strings.ReplaceAll(id, "'", "''") + "'"
		fmt.Fprintf(&sqlText, "INSERT INTO users VALUES (%s, 'n%d', 'u%d@example.com');\n", q, i, i)
		for j := range i % 4 { // 0 to 3 rows of each kind
			fmt.Fprintf(&sqlText, "INSERT INTO accounts VALUES (%s, 'keycloak', 'p%d-%d', 'at');\n", q, i, j)
			fmt.Fprintf(&sqlText, "INSERT INTO sessions VALUES (gen_random_uuid()::text, %s, now() + interval '1 day');\n", q)
			fmt.Fprintf(&sqlText, "INSERT INTO user_roles VALUES (%s, 'r%d');\n", q, j)
			fmt.Fprintf(&sqlText, "INSERT INTO user_organizations VALUES (%s, 'o%d', 'org-%d');\n", q, j, j)
			for _, table := range []string{"accounts", "sessions", "user_roles", "user_organizations"} {
				want[table+":"+id]++
			}
		}
		fmt.Fprintf(&sqlText, "INSERT INTO sessions VALUES (gen_random_uuid()::text, %s, now() - interval '1 second');\n", q)
	}
	for _, id := range orphanIDs {
		q := "'" + id + "'"
		fmt.Fprintf(&sqlText, "INSERT INTO accounts VALUES (%s, 'keycloak', 'orphan-%s', 'at');\n", q, id)
		fmt.Fprintf(&sqlText, "INSERT INTO sessions VALUES (gen_random_uuid()::text, %s, now() + interval '1 day');\n", q)
		fmt.Fprintf(&sqlText, "INSERT INTO user_roles VALUES (%s, 'orphan');\n", q)
	}
	_, err = db.Exec(sqlText.String())
	require.NoError(t, err)
	s, err := nextauth.NewSource(src, nextauth.Overrides{})
	require.NoError(t, err)

	for size := 1; size <= len(ids)+2; size++ {
		data, sum, err := readAllSummary(t, s, size)
		require.NoError(t, err, "batches of %d", size)
		got := map[string]int{}
		for _, a := range data.Accounts {
			got["accounts:"+a.UserID]++
		}
		for _, x := range data.Sessions {
			got["sessions:"+x.UserID]++
		}
		for _, r := range data.Roles {
			got["user_roles:"+r.UserID]++
		}
		for _, m := range data.Memberships {
			got["user_organizations:"+m.UserID]++
		}
		var users []string
		for _, u := range data.Users {
			users = append(users, u.ID)
		}
		require.ElementsMatch(t, ids, users, "batches of %d", size)
		require.True(t, slices.IsSorted(users), "users come in byte order: %q", users)
		require.Equal(t, want, got, "batches of %d", size)
		require.Equal(t, ports.NextAuthOrphans{Accounts: int64(len(orphanIDs)), Sessions: int64(len(orphanIDs)),
			Roles: int64(len(orphanIDs))}, sum.Orphans, "batches of %d: rows of missing users (live sessions only)", size)
	}
}

// TestStreamGivesARepeatedUserIDOnce: a users table without a primary key
// may hold one id twice, also across a batch boundary and for the empty id;
// each id comes once, with its rows.
func TestStreamGivesARepeatedUserIDOnce(t *testing.T) {
	src := testenv.NewPostgresURL(t)
	db, err := sql.Open("pgx", src)
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec(`CREATE TABLE users (id text, email text);
		CREATE TABLE accounts (user_id text, provider text, provider_account_id text);
		CREATE TABLE sessions (session_token text, user_id text, expires timestamptz);
		INSERT INTO users VALUES (''), (''), (''), ('x'), ('x'), ('y');
		INSERT INTO accounts VALUES ('', 'keycloak', 'p0'), ('x', 'keycloak', 'p1'), ('y', 'keycloak', 'p2');`)
	require.NoError(t, err)
	s, err := nextauth.NewSource(src, nextauth.Overrides{})
	require.NoError(t, err)
	for size := 1; size <= 7; size++ {
		data, sum, err := readAllSummary(t, s, size)
		require.NoError(t, err)
		var ids []string
		for _, u := range data.Users {
			ids = append(ids, u.ID)
		}
		require.Equal(t, []string{"", "x", "y"}, ids, "batches of %d", size)
		require.Len(t, data.Accounts, 3, "batches of %d", size)
		require.Zero(t, sum.Orphans, "batches of %d", size)
	}
}
