package store_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/adapters/store"
	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
	"github.com/authbff/authbff/test/testenv"
)

// foreignKey is one single-column foreign key as the catalog reports it.
type foreignKey struct {
	Table    string `bun:"tbl"`
	Column   string `bun:"col"`
	Ref      string `bun:"ref"`
	OnDelete string `bun:"on_delete"`
}

// wantForeignKeys is the schema's promise: deleting a user removes
// everything that hangs off it; deleting an organization ends memberships
// but only unsets it as the active organization of sessions.
var wantForeignKeys = []foreignKey{
	{"accounts", "user_id", "users", "CASCADE"},
	{"sessions", "active_organization_id", "organizations", "SET NULL"},
	{"sessions", "user_id", "users", "CASCADE"},
	{"user_organizations", "organization_id", "organizations", "CASCADE"},
	{"user_organizations", "user_id", "users", "CASCADE"},
	{"user_roles", "role_id", "roles", "CASCADE"},
	{"user_roles", "user_id", "users", "CASCADE"},
}

// sessionIndexes are the indexes the session queries rely on: column -> unique.
var sessionIndexes = map[string]bool{"token_hash": true, "user_id": false, "expires": false, "provider_session_id": false}

func TestSchemaPostgres(t *testing.T) {
	t.Parallel()
	db := testenv.NewPostgres(t)
	ctx := t.Context()

	var fks []foreignKey
	err := db.NewRaw(`SELECT c.conrelid::regclass::text AS tbl, a.attname AS col, c.confrelid::regclass::text AS ref,
	CASE c.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'r' THEN 'RESTRICT'
		WHEN 'd' THEN 'SET DEFAULT' ELSE 'NO ACTION' END AS on_delete
FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace AND cardinality(c.conkey) = 1
ORDER BY 1, 2`).Scan(ctx, &fks)
	require.NoError(t, err)
	require.Equal(t, wantForeignKeys, fks)

	var idx []struct {
		Name string `bun:"indexname"`
		Def  string `bun:"indexdef"`
	}
	require.NoError(t, db.NewRaw(`SELECT indexname, indexdef FROM pg_indexes
	WHERE schemaname = current_schema() AND tablename = 'sessions'`).Scan(ctx, &idx))
	for col, unique := range sessionIndexes {
		found := false
		for _, i := range idx {
			if strings.HasSuffix(i.Def, "USING btree ("+col+")") {
				found = true
				require.Equal(t, unique, strings.HasPrefix(i.Def, "CREATE UNIQUE INDEX"), "index %s: %s", i.Name, i.Def)
			}
		}
		require.True(t, found, "no index on sessions (%s); have %v", col, idx)
	}

	var rules []string
	require.NoError(t, db.NewRaw(`SELECT rc.delete_rule FROM information_schema.referential_constraints rc
	JOIN information_schema.table_constraints tc
		ON tc.constraint_schema = rc.constraint_schema AND tc.constraint_name = rc.constraint_name
	WHERE tc.table_schema = current_schema() AND tc.table_name = 'sessions' ORDER BY 1`).Scan(ctx, &rules))
	require.Equal(t, []string{"CASCADE", "SET NULL"}, rules)
}

func TestSchemaSQLite(t *testing.T) {
	t.Parallel()
	db := testenv.NewSQLite(t)
	ctx := t.Context()

	var fks []foreignKey
	err := db.NewRaw(`SELECT m.name AS tbl, f."from" AS col, f."table" AS ref, f.on_delete AS on_delete
FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f
WHERE m.type = 'table' ORDER BY 1, 2`).Scan(ctx, &fks)
	require.NoError(t, err)
	require.Equal(t, wantForeignKeys, fks)

	var idx []struct {
		Name   string `bun:"name"`
		Unique bool   `bun:"is_unique"`
		Column string `bun:"col"`
		Count  int    `bun:"n"`
	}
	require.NoError(t, db.NewRaw(`SELECT l.name AS name, l."unique" AS is_unique, min(i.name) AS col, count(*) AS n
FROM pragma_index_list('sessions') l JOIN pragma_index_info(l.name) i GROUP BY l.name, l."unique"`).Scan(ctx, &idx))
	for col, unique := range sessionIndexes {
		found := false
		for _, i := range idx {
			if i.Column == col && i.Count == 1 {
				found = true
				require.Equal(t, unique, i.Unique, "index %s", i.Name)
			}
		}
		require.True(t, found, "no index on sessions (%s); have %+v", col, idx)
	}

	var fkOn int
	require.NoError(t, db.NewRaw("PRAGMA foreign_keys").Scan(ctx, &fkOn))
	require.Equal(t, 1, fkOn, "SQLite enforces foreign keys only when asked, on every connection")
}

// TestDeletingAUserCascades deletes a user row with SQL (no port does that)
// and checks that sessions, accounts, roles and memberships go with it.
func TestDeletingAUserCascades(t *testing.T) {
	for dialect, newDB := range testenv.Databases() {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			if dialect == store.Postgres {
				testenv.RequirePostgres(t)
			}
			db := newDB(t)
			ctx := t.Context()
			env := storesOn(db)
			in := ports.IdentitySync{Provider: "keycloak", Subject: "doomed", Email: "doomed@example.com", Now: now,
				Roles:         []domain.Role{{Name: "admin", Source: domain.RoleSourceRealm}},
				Organizations: []domain.Organization{{ID: "org-acme", Alias: "acme"}}}
			doomed, err := env.Users.SyncIdentity(ctx, in)
			require.NoError(t, err)
			in.Subject, in.Email = "survivor", "survivor@example.com"
			survivor, err := env.Users.SyncIdentity(ctx, in)
			require.NoError(t, err)
			for _, u := range []domain.User{doomed, survivor, doomed} {
				s, _, err := domain.NewSession(domain.NewSessionParams{UserID: u.ID, ActiveOrganizationID: "org-acme"}, domain.DefaultSessionPolicy(), now)
				require.NoError(t, err)
				require.NoError(t, env.Sessions.Create(ctx, s))
			}
			owned := func(userID string) map[string]int {
				counts := map[string]int{}
				for _, table := range []string{"sessions", "accounts", "user_roles", "user_organizations"} {
					var n int
					require.NoError(t, db.NewRaw("SELECT count(*) FROM "+table+" WHERE user_id = ?", userID).Scan(ctx, &n))
					counts[table] = n
				}
				return counts
			}
			require.Equal(t, map[string]int{"sessions": 2, "accounts": 1, "user_roles": 1, "user_organizations": 1}, owned(doomed.ID))

			_, err = db.ExecContext(ctx, "DELETE FROM users WHERE id = ?", doomed.ID)
			require.NoError(t, err)
			require.Equal(t, map[string]int{"sessions": 0, "accounts": 0, "user_roles": 0, "user_organizations": 0}, owned(doomed.ID))
			require.Equal(t, map[string]int{"sessions": 1, "accounts": 1, "user_roles": 1, "user_organizations": 1}, owned(survivor.ID))
			_, err = env.Users.User(ctx, doomed.ID)
			require.ErrorIs(t, err, domain.ErrUserNotFound)

			// Deleting an organization ends memberships and unsets it as the
			// active organization; the session itself lives on.
			_, err = db.ExecContext(ctx, "DELETE FROM organizations WHERE id = ?", "org-acme")
			require.NoError(t, err)
			list, err := env.Sessions.ListByUser(ctx, survivor.ID)
			require.NoError(t, err)
			require.Len(t, list, 1)
			require.Empty(t, list[0].ActiveOrganizationID())
			orgs, err := env.Users.Organizations(ctx, survivor.ID)
			require.NoError(t, err)
			require.Empty(t, orgs)
		})
	}
}

// TestSortOrderIgnoresCollation runs on a PostgreSQL database with an ICU
// (linguistic) collation, as production databases created with a en_US
// locale have: roles and organizations still come back in the byte order the
// ports document and the fakes use.
func TestSortOrderIgnoresCollation(t *testing.T) {
	t.Parallel()
	db := newICUPostgres(t)
	ctx := t.Context()
	env := storesOn(db)
	in := ports.IdentitySync{Provider: "keycloak", Subject: "s", Now: now,
		Roles: []domain.Role{
			{Name: "admin", Source: domain.RoleSourceRealm}, {Name: "Admin", Source: domain.RoleSourceRealm},
			{Name: "a_b", Source: domain.RoleSourceRealm}, {Name: "a-b", Source: domain.RoleSourceRealm},
			{Name: "x", Source: domain.ClientRoleSource("web_app")}, {Name: "x", Source: domain.ClientRoleSource("web-app")},
			{Name: "x", Source: domain.ClientRoleSource("Web")},
		},
		Organizations: []domain.Organization{{Alias: "alpha"}, {Alias: "Beta"}, {Alias: "a_b"}, {Alias: "a-b"}},
	}
	u, err := env.Users.SyncIdentity(ctx, in)
	require.NoError(t, err)
	s, token, err := domain.NewSession(domain.NewSessionParams{UserID: u.ID}, domain.DefaultSessionPolicy(), now)
	require.NoError(t, err)
	require.NoError(t, env.Sessions.Create(ctx, s))

	wantRoles := []domain.Role{
		{Name: "x", Source: "client:Web"}, {Name: "x", Source: "client:web-app"}, {Name: "x", Source: "client:web_app"},
		{Name: "Admin", Source: "realm"}, {Name: "a-b", Source: "realm"}, {Name: "a_b", Source: "realm"}, {Name: "admin", Source: "realm"},
	}
	wantAliases := []string{"Beta", "a-b", "a_b", "alpha"}

	roles, err := env.Users.Roles(ctx, u.ID)
	require.NoError(t, err)
	require.Equal(t, wantRoles, roles)
	orgs, err := env.Users.Organizations(ctx, u.ID)
	require.NoError(t, err)
	require.Equal(t, wantAliases, aliasesOf(orgs))
	view, err := env.Sessions.Lookup(ctx, token.Hash())
	require.NoError(t, err)
	require.Equal(t, wantRoles, view.Roles)
	require.Equal(t, wantAliases, aliasesOf(view.Organizations))
}

func aliasesOf(orgs []domain.Organization) []string {
	out := make([]string, 0, len(orgs))
	for _, o := range orgs {
		out = append(out, o.Alias)
	}
	return out
}

// newICUPostgres is testenv.NewPostgres on a database whose default
// collation is ICU en-US instead of the test cluster's C.
func newICUPostgres(t *testing.T) *store.DB {
	t.Helper()
	admin := testenv.RequirePostgres(t)
	adminDB := openURL(t, admin)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "authbff_icu_" + hex.EncodeToString(b[:])
	_, err := adminDB.ExecContext(t.Context(), "CREATE DATABASE "+name+
		" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C'")
	if err != nil {
		t.Skipf("server cannot create an ICU database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = adminDB.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u, err := url.Parse(admin)
	require.NoError(t, err)
	u.Path = "/" + name
	db := openURL(t, u.String())
	m, err := store.NewMigrator(db)
	require.NoError(t, err)
	_, err = m.Up(t.Context())
	require.NoError(t, err)
	return db
}
