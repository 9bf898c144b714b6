package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/test/testenv"
)

// TestImportNextAuthSourceFromTheEnvironment: without --from, the import
// reads the source from NEXTAUTH_DATABASE_URL, so the password never has to
// be on the command line (visible in ps); --from still wins when given.
func TestImportNextAuthSourceFromTheEnvironment(t *testing.T) {
	src := testenv.NewPostgresURL(t)
	db := openSQL(t, src)
	seedMapped(t, db)
	vars := importTarget(t, true)

	env := copyVars(vars)
	env["NEXTAUTH_DATABASE_URL"] = src
	out, err := cli(t, env, "import", "nextauth", "--dry-run")
	require.NoError(t, err, out)
	require.Contains(t, out, "found 2 users, 2 accounts, 2 role grants, 2 memberships, 3 unexpired sessions")

	env = copyVars(vars)
	env["NEXTAUTH_DATABASE_URL"] = "postgres://nobody:wrong@127.0.0.1:1/nowhere"
	out, err = cli(t, env, "import", "nextauth", "--from", src, "--dry-run")
	require.NoError(t, err, out)
	require.Contains(t, out, "found 2 users")
}

// TestImportNextAuthWithoutASource names both ways to give the source, the
// variable first, and exits 2.
func TestImportNextAuthWithoutASource(t *testing.T) {
	_, err := cli(t, map[string]string{}, "import", "nextauth", "--dry-run")
	var ec exitCode
	require.ErrorAs(t, err, &ec)
	require.Equal(t, 2, ec.code)
	require.Contains(t, err.Error(), "set NEXTAUTH_DATABASE_URL")
	require.Contains(t, err.Error(), "--from")

	out, err := cli(t, map[string]string{}, "import", "nextauth", "-h")
	require.NoError(t, err)
	require.Contains(t, out, "NEXTAUTH_DATABASE_URL")
	require.Contains(t, out, "visible to every user")
}
