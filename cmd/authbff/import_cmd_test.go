package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/test/authjsclient"
	"github.com/authbff/authbff/test/testenv"
)

// importSecret is AUTH_SECRET for both the import and the server that reads
// what it wrote: the import seals the accounts' tokens with it.
const importSecret = "import-test-secret-0123456789abcdefghij"

// prismaMappedDDL is what `prisma migrate` generates for the Auth.js Prisma
// schema with every model and field @map'ped to snake_case, plus the
// replaced app's user_roles and user_organizations models.
const prismaMappedDDL = `
CREATE TABLE "users" ("id" TEXT NOT NULL, "name" TEXT, "email" TEXT, "email_verified" TIMESTAMP(3), "image" TEXT,
    CONSTRAINT "users_pkey" PRIMARY KEY ("id"));
CREATE TABLE "accounts" ("id" TEXT NOT NULL, "user_id" TEXT NOT NULL, "type" TEXT NOT NULL, "provider" TEXT NOT NULL,
    "provider_account_id" TEXT NOT NULL, "refresh_token" TEXT, "access_token" TEXT, "expires_at" INTEGER, "token_type" TEXT,
    "scope" TEXT, "id_token" TEXT, "session_state" TEXT, CONSTRAINT "accounts_pkey" PRIMARY KEY ("id"));
CREATE TABLE "sessions" ("id" TEXT NOT NULL, "session_token" TEXT NOT NULL, "user_id" TEXT NOT NULL, "expires" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "sessions_pkey" PRIMARY KEY ("id"));
CREATE TABLE "verificationtokens" ("identifier" TEXT NOT NULL, "token" TEXT NOT NULL, "expires" TIMESTAMP(3) NOT NULL);
CREATE TABLE "user_roles" ("id" TEXT NOT NULL, "user_id" TEXT NOT NULL, "role" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, CONSTRAINT "user_roles_pkey" PRIMARY KEY ("id"));
CREATE TABLE "user_organizations" ("id" TEXT NOT NULL, "user_id" TEXT NOT NULL, "organization_id" TEXT NOT NULL,
    "organization_alias" TEXT NOT NULL, "organization_name" TEXT, "tenant_id" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, CONSTRAINT "user_organizations_pkey" PRIMARY KEY ("id"));
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");
CREATE UNIQUE INDEX "accounts_provider_provider_account_id_key" ON "accounts"("provider", "provider_account_id");
CREATE UNIQUE INDEX "sessions_session_token_key" ON "sessions"("session_token");
CREATE UNIQUE INDEX "verificationtokens_token_key" ON "verificationtokens"("token");
CREATE UNIQUE INDEX "verificationtokens_identifier_token_key" ON "verificationtokens"("identifier", "token");
CREATE UNIQUE INDEX "user_roles_user_id_role_key" ON "user_roles"("user_id", "role");
CREATE UNIQUE INDEX "user_organizations_user_id_organization_id_key" ON "user_organizations"("user_id", "organization_id");
ALTER TABLE "accounts" ADD CONSTRAINT "accounts_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "user_roles" ADD CONSTRAINT "user_roles_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "user_organizations" ADD CONSTRAINT "user_organizations_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
`

// prismaDefaultDDL is what `prisma migrate` generates for the Auth.js Prisma
// schema as documented (no @map).
const prismaDefaultDDL = `
CREATE TABLE "User" ("id" TEXT NOT NULL, "name" TEXT, "email" TEXT, "emailVerified" TIMESTAMP(3), "image" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "User_pkey" PRIMARY KEY ("id"));
CREATE TABLE "Account" ("userId" TEXT NOT NULL, "type" TEXT NOT NULL, "provider" TEXT NOT NULL, "providerAccountId" TEXT NOT NULL,
    "refresh_token" TEXT, "access_token" TEXT, "expires_at" INTEGER, "token_type" TEXT, "scope" TEXT, "id_token" TEXT,
    "session_state" TEXT, "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "Account_pkey" PRIMARY KEY ("provider","providerAccountId"));
CREATE TABLE "Session" ("sessionToken" TEXT NOT NULL, "userId" TEXT NOT NULL, "expires" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, "updatedAt" TIMESTAMP(3) NOT NULL);
CREATE TABLE "VerificationToken" ("identifier" TEXT NOT NULL, "token" TEXT NOT NULL, "expires" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "VerificationToken_pkey" PRIMARY KEY ("identifier","token"));
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");
CREATE UNIQUE INDEX "Session_sessionToken_key" ON "Session"("sessionToken");
ALTER TABLE "Account" ADD CONSTRAINT "Account_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "Session" ADD CONSTRAINT "Session_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;
`

// The cookie tokens of the seeded sessions: Auth.js's are UUIDs.
const (
	tokAlice1  = "7d2f5b8e-0c1a-4e3b-9f6d-2a8c4e1b7d30"
	tokAlice2  = "c0ffee00-1234-4abc-8def-0123456789ab"
	tokBob     = "b0b0b0b0-5555-4666-8777-888899990000"
	tokExpired = "dead0000-0000-4000-8000-00000000beef"
)

// seedMapped fills a Prisma-mapped source: alice (admin, member of acme and
// globex, two live sessions) and bob (no role, no org, one live session), one
// expired session. Timestamps are UTC without time zone, as Prisma writes them.
func seedMapped(t *testing.T, db *sql.DB) {
	t.Helper()
	exp := time.Now().Add(time.Hour).Unix()
	mustExec(t, db, prismaMappedDDL)
	mustExec(t, db, `INSERT INTO users (id, name, email, email_verified) VALUES
		('clx0alice000000000000000a', 'Alice Mapped', 'Alice@Example.com', now() AT TIME ZONE 'UTC'),
		('clx0bob00000000000000000b', 'Bob Mapped', 'bob@example.com', NULL)`)
	mustExec(t, db, fmt.Sprintf(`INSERT INTO accounts (id, user_id, type, provider, provider_account_id, access_token, refresh_token, id_token, expires_at, scope, session_state) VALUES
		('acc1', 'clx0alice000000000000000a', 'oidc', 'keycloak', 'kc-alice', 'access-alice', 'refresh-alice', 'id-alice', %d, 'openid email', 'sid-alice'),
		('acc2', 'clx0bob00000000000000000b', 'oidc', 'keycloak', 'kc-bob', 'access-bob', 'refresh-bob', 'id-bob', %d, 'openid', 'sid-bob')`, exp, exp))
	mustExec(t, db, `INSERT INTO sessions (id, session_token, user_id, expires) VALUES
		('s1', '`+tokAlice1+`', 'clx0alice000000000000000a', (now() AT TIME ZONE 'UTC') + interval '30 days'),
		('s2', '`+tokAlice2+`', 'clx0alice000000000000000a', (now() AT TIME ZONE 'UTC') + interval '2 hours'),
		('s3', '`+tokBob+`', 'clx0bob00000000000000000b', (now() AT TIME ZONE 'UTC') + interval '29 days'),
		('s4', '`+tokExpired+`', 'clx0bob00000000000000000b', (now() AT TIME ZONE 'UTC') - interval '1 minute')`)
	mustExec(t, db, `INSERT INTO user_roles (id, user_id, role) VALUES ('r1', 'clx0alice000000000000000a', 'admin'), ('r2', 'clx0alice000000000000000a', 'user')`)
	mustExec(t, db, `INSERT INTO user_organizations (id, user_id, organization_id, organization_alias, organization_name, tenant_id) VALUES
		('m1', 'clx0alice000000000000000a', '5c1d8a3e-1111-4222-8333-444455556666', 'globex', 'Globex', 'tenant-globex'),
		('m2', 'clx0alice000000000000000a', '9a8b7c6d-1111-4222-8333-444455556666', 'acme', 'Acme Corp', 'tenant-acme')`)
}

func mustExec(t *testing.T, db *sql.DB, q string) {
	t.Helper()
	_, err := db.ExecContext(context.Background(), q)
	require.NoError(t, err)
}

func openSQL(t *testing.T, url string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// importTarget returns the environment of a fresh, migrated authbff
// database: PostgreSQL, or SQLite when sqlite is true.
func importTarget(t *testing.T, sqlite bool) map[string]string {
	t.Helper()
	vars := map[string]string{"AUTH_SECRET": importSecret, "AUTH_DATA_DIR": t.TempDir()}
	if sqlite {
		vars["DATABASE_URL"] = "sqlite:" + filepath.Join(vars["AUTH_DATA_DIR"], "target.db")
	} else {
		vars["DATABASE_URL"] = testenv.NewPostgresURL(t)
	}
	_, err := cli(t, vars, "migrate", "up")
	require.NoError(t, err)
	return vars
}

func copyVars(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// session asks a running authbff for the session of a browser holding token
// in the cookie named cookie; nil means `null`.
func session(t *testing.T, base, cookie, token string) map[string]any {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/api/auth/session", nil)
	require.NoError(t, err)
	req.Header.Set("Cookie", cookie+"="+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	var s map[string]any
	require.NoError(t, json.Unmarshal(body, &s), string(body))
	return s
}

// accessToken asks GET /api/auth/token for the session's access token.
func accessToken(t *testing.T, base, token string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/api/auth/token", nil)
	require.NoError(t, err)
	req.Header.Set("Cookie", "authjs.session-token="+token)
	req.Header.Set("X-CSRF", "1")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	var v struct {
		AccessToken string `json:"accessToken"`
	}
	require.NoError(t, json.Unmarshal(body, &v), string(body))
	return v.AccessToken
}

func email(s map[string]any) string { return s["user"].(map[string]any)["email"].(string) }

func targetCount(t *testing.T, vars map[string]string, table string) int64 {
	t.Helper()
	var n int64
	require.NoError(t, openSQL(t, vars["DATABASE_URL"]).QueryRowContext(context.Background(), "SELECT count(*) FROM "+table).Scan(&n))
	return n
}

// TestImportNextAuthPrismaMapped takes over a database in the replaced app's
// shape (Prisma, snake_case @map, user_roles, user_organizations): the
// browsers' cookies answer the same users from /api/auth/session, with roles,
// organizations and the Keycloak tokens; the expired session is left behind;
// a dry run writes nothing; a second run adds nothing; a non-empty target is
// refused without --merge.
func TestImportNextAuthPrismaMapped(t *testing.T) {
	src := testenv.NewPostgresURL(t)
	seedMapped(t, openSQL(t, src))
	vars := importTarget(t, false)

	out, err := cli(t, copyVars(vars), "import", "nextauth", "--from", src, "--dry-run")
	require.NoError(t, err, out)
	require.Contains(t, out, "found 2 users, 2 accounts, 2 role grants, 2 memberships, 3 unexpired sessions")
	require.Contains(t, out, "dry run: nothing written")
	for _, table := range []string{"users", "accounts", "sessions", "user_roles", "user_organizations", "organizations"} {
		require.Zero(t, targetCount(t, vars, table), "dry run wrote %s", table)
	}

	out, err = cli(t, copyVars(vars), "import", "nextauth", "--from", src)
	require.NoError(t, err, out)
	t.Log(out)
	require.Contains(t, out, `source sessions: "sessions" (session_token="session_token", user_id="user_id", expires="expires")`)
	require.Contains(t, out, "imported 2 users, 2 accounts, 2 role grants, 2 memberships, 2 organizations, 3 sessions (0 sessions skipped)")

	// Only the hash of the cookie value is stored.
	var hash string
	require.NoError(t, openSQL(t, vars["DATABASE_URL"]).QueryRowContext(context.Background(),
		`SELECT token_hash FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = 'bob@example.com'`).Scan(&hash))
	sum := sha256.Sum256([]byte(tokBob))
	require.Equal(t, hex.EncodeToString(sum[:]), hash)

	// A second run adds nothing, and without --merge it is refused.
	out, err = cli(t, copyVars(vars), "import", "nextauth", "--from", src)
	var ec exitCode
	require.True(t, errors.As(err, &ec), "non-empty target refused: %v\n%s", err, out)
	require.Equal(t, 3, ec.code)
	require.Contains(t, err.Error(), "already has users or sessions (2 users, 3 sessions); use --merge")
	out, err = cli(t, copyVars(vars), "import", "nextauth", "--from", src, "--merge")
	require.NoError(t, err, out)
	require.Contains(t, out, "imported 0 users, 0 accounts, 0 role grants, 0 memberships, 0 organizations, 0 sessions")
	require.EqualValues(t, 3, targetCount(t, vars, "sessions"))
	require.EqualValues(t, 2, targetCount(t, vars, "users"))

	legacy := copyVars(vars)
	legacy["AUTH_ACCEPT_LEGACY_COOKIES"] = "true"
	base, logs := startServe(t, legacy)
	for _, tok := range []string{tokAlice1, tokAlice2} {
		s := session(t, base, "authjs.session-token", tok)
		require.NotNil(t, s, logs.String())
		require.Equal(t, "alice@example.com", email(s))
		user := s["user"].(map[string]any)
		require.Equal(t, "Alice Mapped", user["name"])
		require.ElementsMatch(t, []any{"admin", "user"}, user["roles"])
		require.Len(t, s["organizations"], 2)
		active := s["activeOrganization"].(map[string]any)
		require.Equal(t, "acme", active["alias"], "the first organization by alias, as at sign-in")
		require.Equal(t, "tenant-acme", active["tenantId"])
		require.Equal(t, "9a8b7c6d-1111-4222-8333-444455556666", active["id"])
	}
	// NextAuth v4's cookie name, during a cut-over.
	require.Equal(t, "bob@example.com", email(session(t, base, "next-auth.session-token", tokBob)))
	require.Nil(t, session(t, base, "authjs.session-token", tokExpired), "the expired session was not imported")
	// The account's Keycloak tokens went, sealed, to the sessions.
	require.Equal(t, "access-alice", accessToken(t, base, tokAlice1))
	require.Equal(t, "access-bob", accessToken(t, base, tokBob))
	require.NotContains(t, logs.String(), tokBob, "a session token never reaches the logs")
	require.NotContains(t, logs.String(), "access-bob")
}

// TestImportNextAuthPrismaDefaultIntoSQLite takes over the Prisma adapter's
// default shape ("User", "sessionToken", …) into a SQLite target.
func TestImportNextAuthPrismaDefaultIntoSQLite(t *testing.T) {
	src := testenv.NewPostgresURL(t)
	db := openSQL(t, src)
	mustExec(t, db, prismaDefaultDDL)
	mustExec(t, db, `INSERT INTO "User" (id, name, email, "updatedAt") VALUES ('cm1default00000000000000u', 'Dee Default', 'dee@example.com', now())`)
	mustExec(t, db, `INSERT INTO "Account" ("userId", type, provider, "providerAccountId", access_token, expires_at, "updatedAt")
		VALUES ('cm1default00000000000000u', 'oidc', 'keycloak', 'kc-dee', 'access-dee', extract(epoch FROM now() + interval '1 hour')::int, now())`)
	mustExec(t, db, `INSERT INTO "Session" ("sessionToken", "userId", expires, "updatedAt") VALUES
		('`+tokAlice1+`', 'cm1default00000000000000u', (now() AT TIME ZONE 'UTC') + interval '30 days', now())`)
	vars := importTarget(t, true)

	out, err := cli(t, copyVars(vars), "import", "nextauth", "--from", src)
	require.NoError(t, err, out)
	require.Contains(t, out, `source sessions: "Session" (session_token="sessionToken", user_id="userId", expires="expires")`)
	require.Contains(t, out, "imported 1 users, 1 accounts, 0 role grants, 0 memberships, 0 organizations, 1 sessions")
	out, err = cli(t, copyVars(vars), "import", "nextauth", "--from", src, "--merge")
	require.NoError(t, err, out)
	require.Contains(t, out, "imported 0 users, 0 accounts, 0 role grants, 0 memberships, 0 organizations, 0 sessions")

	base, logs := startServe(t, copyVars(vars))
	s := session(t, base, "authjs.session-token", tokAlice1)
	require.NotNil(t, s, logs.String())
	require.Equal(t, "dee@example.com", email(s))
	require.Equal(t, "access-dee", accessToken(t, base, tokAlice1))
}

// TestImportNextAuthMissingColumn: a source without a session token column is
// refused with an error naming the table and the column, nothing is written,
// and --column names the column introspection could not find.
func TestImportNextAuthMissingColumn(t *testing.T) {
	src := testenv.NewPostgresURL(t)
	db := openSQL(t, src)
	seedMapped(t, db)
	mustExec(t, db, `ALTER TABLE sessions RENAME COLUMN session_token TO cookie_value`)
	vars := importTarget(t, false)

	out, err := cli(t, copyVars(vars), "import", "nextauth", "--from", src)
	require.Error(t, err, out)
	require.Contains(t, err.Error(), `table "sessions" has no session_token column`)
	require.Contains(t, err.Error(), "--column sessions.session_token=NAME")
	require.Zero(t, targetCount(t, vars, "users"))

	out, err = cli(t, copyVars(vars), "import", "nextauth", "--from", src, "--column", "sessions.session_token=cookie_valu")
	require.Error(t, err, out)
	require.Contains(t, err.Error(), `table "sessions" has no column "cookie_valu"`)

	out, err = cli(t, copyVars(vars), "import", "nextauth", "--from", src, "--column", "sessions.session_token=cookie_value")
	require.NoError(t, err, out)
	require.Contains(t, out, "3 sessions (0 sessions skipped)")

	mustExec(t, db, `DROP TABLE sessions`)
	_, err = cli(t, copyVars(vars), "import", "nextauth", "--from", src, "--merge")
	require.Error(t, err)
	require.Contains(t, err.Error(), `has no sessions table`)
}

// TestImportNextAuthFromRealAuthJS takes over a database created and filled
// by the real Auth.js (npm packages pinned by test/nextauth-import's
// package-lock.json): seed.mjs creates @auth/pg-adapter's schema and writes
// two users, their accounts and sessions through the adapter's own
// createUser, linkAccount and createSession; then authjs-server.mjs, a
// minimal Auth.js app (@auth/core's Auth() with the Keycloak provider and the
// pg adapter, database sessions), signs alice in through the real OAuth flow
// against authbff's embedded development IdP. After the import, authbff
// answers every one of those cookies with the same user. Needs node and npm:
// skipped without them, except under CI=true where that is a failure.
func TestImportNextAuthFromRealAuthJS(t *testing.T) {
	if testing.Short() {
		t.Skip("Auth.js import check skipped in -short mode (npm install)")
	}
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not installed under CI=true: the Auth.js import check needs Node.js 20+ and npm", tool)
			}
			t.Skipf("%s not installed: skipping the Auth.js import check", tool)
		}
	}
	src := testenv.NewPostgresURL(t)
	dir := filepath.Join("..", "..", "test", "nextauth-import")
	npmCIIn(t, dir)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "seed.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DATABASE_URL="+src, "NODE_NO_WARNINGS=1")
	cmd.WaitDelay = 5 * time.Second
	raw, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		t.Fatalf("seed.mjs: %v\n%s", err, ee.Stderr)
	}
	require.NoError(t, err)
	var seeded struct {
		Sessions []struct {
			Token, UserID, Email string
		}
		ExpiredToken string
	}
	require.NoError(t, json.Unmarshal(raw, &seeded), string(raw))
	require.Len(t, seeded.Sessions, 2)

	aliceToken, aliceAccess := signInThroughAuthJS(t, dir, src)

	vars := importTarget(t, false)
	out, err := cli(t, copyVars(vars), "import", "nextauth", "--from", src)
	require.NoError(t, err, out)
	t.Log(out)
	require.Contains(t, out, `source sessions: "sessions" (session_token="sessionToken", user_id="userId", expires="expires")`)
	require.Contains(t, out, "imported 3 users, 3 accounts, 0 role grants, 0 memberships, 0 organizations, 3 sessions (0 sessions skipped)")
	out, err = cli(t, copyVars(vars), "import", "nextauth", "--from", src, "--merge")
	require.NoError(t, err, out)
	require.Contains(t, out, "imported 0 users, 0 accounts, 0 role grants, 0 memberships, 0 organizations, 0 sessions")

	base, logs := startServe(t, copyVars(vars))
	for _, s := range seeded.Sessions {
		got := session(t, base, "authjs.session-token", s.Token)
		require.NotNil(t, got, logs.String())
		require.Equal(t, s.Email, email(got))
	}
	require.Equal(t, "access-kc-sub-alice", accessToken(t, base, seeded.Sessions[0].Token))
	require.Nil(t, session(t, base, "authjs.session-token", seeded.ExpiredToken))
	var sid string
	require.NoError(t, openSQL(t, vars["DATABASE_URL"]).QueryRowContext(context.Background(),
		`SELECT provider_session_id FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = $1`, seeded.Sessions[1].Email).Scan(&sid))
	require.Equal(t, "kc-sid-kc-sub-bob", sid, "Keycloak's sid (session_state) is kept for back-channel logout")

	// The session the real sign-in flow created: same user, same access token.
	got := session(t, base, "authjs.session-token", aliceToken)
	require.NotNil(t, got, logs.String())
	require.Equal(t, "alice@example.com", email(got))
	require.Equal(t, aliceAccess, accessToken(t, base, aliceToken))
}

// signInThroughAuthJS runs authjs-server.mjs on the pg-adapter database src
// and signs the dev IdP's alice in through it, as a browser would. The dev
// IdP is the one `authbff serve` embeds, started with AUTH_URL set to the
// Auth.js app's URL so that the app's callback is its registered redirect
// URI. It returns the Auth.js session cookie's value and the access token
// Auth.js stored.
func signInThroughAuthJS(t *testing.T, dir, src string) (cookie, access string) {
	t.Helper()
	appAddr := freeAddr(t)
	appBase := "http://" + appAddr
	_, idpLogs := startServe(t, map[string]string{"AUTH_SECRET": importSecret, "AUTH_URL": appBase + "/api/auth",
		"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "idp.db")})
	m := regexp.MustCompile(`"issuer":"([^"]+)"`).FindStringSubmatch(idpLogs.String())
	require.NotNil(t, m, "no dev IdP issuer in the logs:\n%s", idpLogs.String())

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "node", "authjs-server.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DATABASE_URL="+src, "NODE_NO_WARNINGS=1", "PORT="+strings.TrimPrefix(appAddr, "127.0.0.1:"),
		"ISSUER="+m[1], "CLIENT_ID="+devClientID, "CLIENT_SECRET="+importSecret, "AUTH_SECRET="+importSecret)
	cmd.WaitDelay = 5 * time.Second
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	appLogs := &syncBuffer{}
	cmd.Stderr = appLogs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		ready <- line
		_, _ = io.Copy(appLogs, stdout)
	}()
	select {
	case line := <-ready:
		require.Contains(t, line, "listening", appLogs.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("authjs-server.mjs did not start within 30s:\n%s", appLogs.String())
	}

	browser := authjsclient.New(appBase)
	landed, err := browser.SignInDevIdP("alice", appBase+"/dashboard")
	require.NoError(t, err, "Auth.js app:\n%s\nIdP:\n%s", appLogs.String(), idpLogs.String())
	require.Equal(t, appBase+"/dashboard", landed)
	s, _, err := browser.Session()
	require.NoError(t, err)
	require.NotNil(t, s, "Auth.js has the session")
	require.Equal(t, "alice@example.com", email(s))

	u, err := url.Parse(appBase)
	require.NoError(t, err)
	for _, c := range browser.HTTP.Jar.Cookies(u) {
		if c.Name == "authjs.session-token" {
			cookie = c.Value
		}
	}
	require.NotEmpty(t, cookie, "Auth.js set its session cookie")
	require.NoError(t, openSQL(t, src).QueryRowContext(context.Background(),
		`SELECT a.access_token FROM accounts a JOIN users u ON u.id = a."userId" WHERE u.email = 'alice@example.com'`).Scan(&access))
	require.NotEmpty(t, access)
	return cookie, access
}

// TestImportNextAuth100kSessions measures an import of 100k live sessions of
// 10k users (Prisma mapped shape, ~3 KB of tokens per account) into
// PostgreSQL and prints the time and the most heap it held, which stays
// flat as the source grows: AUTHBFF_IMPORT_SESSIONS=1000000 imports 1M
// sessions of 100k users (a measurement, not run by make test).
func TestImportNextAuth100kSessions(t *testing.T) {
	if testing.Short() {
		t.Skip("100k-session import skipped in -short mode")
	}
	sessions := 100_000
	if v := os.Getenv("AUTHBFF_IMPORT_SESSIONS"); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(t, err, "AUTHBFF_IMPORT_SESSIONS")
		sessions = n
	}
	users := sessions / 10
	src := testenv.NewPostgresURL(t)
	db := openSQL(t, src)
	mustExec(t, db, prismaMappedDDL)
	mustExec(t, db, fmt.Sprintf(`INSERT INTO users (id, name, email) SELECT 'u' || g, 'User ' || g, 'user' || g || '@example.com' FROM generate_series(1, %d) g`, users))
	mustExec(t, db, fmt.Sprintf(`INSERT INTO accounts (id, user_id, type, provider, provider_account_id, access_token, refresh_token, id_token, expires_at)
		SELECT 'a' || g, 'u' || g, 'oidc', 'keycloak', 'sub-' || g, repeat('a', 1200), repeat('r', 800), repeat('i', 1200),
		       extract(epoch FROM now() + interval '5 minutes')::int FROM generate_series(1, %d) g`, users))
	mustExec(t, db, fmt.Sprintf(`INSERT INTO user_roles (id, user_id, role) SELECT 'r' || g, 'u' || g, 'user' FROM generate_series(1, %d) g`, users))
	mustExec(t, db, fmt.Sprintf(`INSERT INTO sessions (id, session_token, user_id, expires)
		SELECT 's' || g, gen_random_uuid()::text, 'u' || (1 + g %% %d), (now() AT TIME ZONE 'UTC') + interval '30 days'
		FROM generate_series(1, %d) g`, users, sessions))
	vars := importTarget(t, false)

	runtime.GC()
	before, peak := heapObjects(), newPeakHeap()
	start := time.Now()
	out, err := cli(t, copyVars(vars), "import", "nextauth", "--from", src)
	elapsed := time.Since(start)
	top := peak.stop()
	require.NoError(t, err, out)
	require.Contains(t, out, fmt.Sprintf("imported %d users, %d accounts, %d role grants, 0 memberships, 0 organizations, %d sessions",
		users, users, users, sessions))
	require.EqualValues(t, sessions, targetCount(t, vars, "sessions"))
	t.Logf("import nextauth of %d sessions (%d users, accounts and role grants) into PostgreSQL: %s; live heap at most %d MB during it (%d MB before)",
		sessions, users, elapsed.Round(time.Millisecond), top>>20, before>>20)

	start = time.Now()
	out, err = cli(t, copyVars(vars), "import", "nextauth", "--from", src, "--merge")
	require.NoError(t, err, out)
	require.Contains(t, out, "imported 0 users, 0 accounts, 0 role grants, 0 memberships, 0 organizations, 0 sessions")
	t.Logf("second run (adds nothing): %s", time.Since(start).Round(time.Millisecond))
}

// npmCIIn installs dir's locked dependencies with `npm ci`, unless
// node_modules already holds exactly the locked packages.
func npmCIIn(t *testing.T, dir string) {
	t.Helper()
	if testenv.NPMInstalled(dir) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NPM_CONFIG_UPDATE_NOTIFIER=false")
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "npm ci in %s:\n%s", dir, out)
	require.True(t, testenv.NPMInstalled(dir), "npm ci did not install the locked packages:\n%s", out)
}

// heapObjects is the bytes of live and not yet swept heap objects
// (runtime/metrics, no stop-the-world).
func heapObjects() uint64 {
	m := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(m)
	return m[0].Value.Uint64()
}

// peakHeap samples heapObjects every 10 ms until stop, which returns the
// largest sample: what an in-process command held at most, give or take
// the garbage not yet collected.
type peakHeap struct {
	done chan struct{}
	max  chan uint64
}

func newPeakHeap() peakHeap {
	p := peakHeap{done: make(chan struct{}), max: make(chan uint64, 1)}
	go func() {
		var top uint64
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			top = max(top, heapObjects())
			select {
			case <-p.done:
				p.max <- top
				return
			case <-tick.C:
			}
		}
	}()
	return p
}

func (p peakHeap) stop() uint64 { close(p.done); return <-p.max }
