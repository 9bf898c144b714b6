// Package nextauth reads a NextAuth/Auth.js PostgreSQL database for
// `authbff import nextauth`. Tables and columns are found by introspection
// (information_schema), so the Prisma adapter's default names ("User",
// "sessionToken"), its @map'ped snake_case names (users, session_token) and
// @auth/pg-adapter's (users, "userId") all work without configuration;
// Overrides name anything introspection cannot tell.
package nextauth

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authbff/authbff/ports"
)

// Overrides name tables and columns introspection cannot find: Tables maps a
// logical table (users, accounts, sessions, user_roles, user_organizations)
// to its real name ("-" skips an optional table of another shape), Columns maps "table.column" (logical names, e.g.
// "sessions.session_token") to the real column name.
type Overrides struct {
	Schema  string // default: the connection's current_schema()
	Tables  map[string]string
	Columns map[string]string
}

// column is a logical column and the normalized spellings it may have.
type column struct {
	name     string
	required bool
	kind     string // text, time, seconds
	names    []string
}

// table is a logical table with its columns.
type table struct {
	name     string
	required bool
	names    []string
	columns  []column
}

// schemaShape lists what the import reads. Names are normalized (lower case,
// no underscores), so "sessionToken" and "session_token" both match
// "sessiontoken".
var schemaShape = []table{
	{name: "users", required: true, names: []string{"users", "user"}, columns: []column{
		{name: "id", required: true, kind: "text", names: []string{"id"}},
		{name: "name", kind: "text", names: []string{"name"}},
		{name: "email", kind: "text", names: []string{"email"}},
		{name: "email_verified", kind: "time", names: []string{"emailverified"}},
		{name: "image", kind: "text", names: []string{"image"}},
	}},
	{name: "accounts", required: true, names: []string{"accounts", "account"}, columns: []column{
		{name: "user_id", required: true, kind: "text", names: []string{"userid"}},
		{name: "type", kind: "text", names: []string{"type"}},
		{name: "provider", required: true, kind: "text", names: []string{"provider"}},
		{name: "provider_account_id", required: true, kind: "text", names: []string{"provideraccountid"}},
		{name: "access_token", kind: "text", names: []string{"accesstoken"}},
		{name: "refresh_token", kind: "text", names: []string{"refreshtoken"}},
		{name: "id_token", kind: "text", names: []string{"idtoken"}},
		{name: "expires_at", kind: "seconds", names: []string{"expiresat"}},
		{name: "scope", kind: "text", names: []string{"scope"}},
		{name: "session_state", kind: "text", names: []string{"sessionstate"}},
	}},
	{name: "sessions", required: true, names: []string{"sessions", "session"}, columns: []column{
		{name: "session_token", required: true, kind: "text", names: []string{"sessiontoken"}},
		{name: "user_id", required: true, kind: "text", names: []string{"userid"}},
		{name: "expires", required: true, kind: "time", names: []string{"expires"}},
	}},
	{name: "user_roles", names: []string{"userroles", "userrole"}, columns: []column{
		{name: "user_id", required: true, kind: "text", names: []string{"userid"}},
		{name: "role", required: true, kind: "text", names: []string{"role", "rolename", "name"}},
	}},
	{name: "user_organizations", names: []string{"userorganizations", "userorganization", "userorgs"}, columns: []column{
		{name: "user_id", required: true, kind: "text", names: []string{"userid"}},
		{name: "organization_id", required: true, kind: "text", names: []string{"organizationid", "orgid"}},
		{name: "alias", kind: "text", names: []string{"organizationalias", "orgalias", "alias", "organizationslug", "slug"}},
		{name: "name", kind: "text", names: []string{"organizationname", "orgname", "name"}},
		{name: "tenant_id", kind: "text", names: []string{"tenantid"}},
	}},
}

// Source implements ports.NextAuthSource on a PostgreSQL URL.
type Source struct {
	url string
	ov  Overrides
}

// NewSource returns a Source reading the database at rawURL. Prisma's URL
// parameters are understood: schema picks the schema, the pool parameters
// are dropped.
func NewSource(rawURL string, ov Overrides) (*Source, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, errors.New("--from must be a postgres:// URL")
	}
	q := u.Query()
	if s := q.Get("schema"); s != "" && ov.Schema == "" {
		ov.Schema = s
	}
	for _, p := range []string{"schema", "connection_limit", "pool_timeout", "pgbouncer", "socket_timeout", "statement_cache_size", "sslaccept"} {
		q.Del(p)
	}
	u.RawQuery = q.Encode()
	if err := checkOverrides(ov); err != nil {
		return nil, err
	}
	return &Source{url: u.String(), ov: ov}, nil
}

var _ ports.NextAuthSource = (*Source)(nil)

func checkOverrides(ov Overrides) error {
	known := map[string]bool{}
	for _, t := range schemaShape {
		known[t.name] = true
		for _, c := range t.columns {
			known[t.name+"."+c.name] = true
		}
	}
	for k := range ov.Tables {
		if !known[k] || strings.Contains(k, ".") {
			return fmt.Errorf("--table %s: unknown table (want users, accounts, sessions, user_roles or user_organizations)", k)
		}
	}
	for k := range ov.Columns {
		if !known[k] || !strings.Contains(k, ".") {
			return fmt.Errorf("--column %s: unknown column (see `authbff import nextauth -h`)", k)
		}
	}
	return nil
}

// resolved is a logical table found in the database: its real name and the
// real name of each logical column ("" when an optional column is absent).
type resolved struct {
	t       table
	real    string
	columns map[string]string
}

// Read implements ports.NextAuthSource.
func (s *Source) Read(ctx context.Context, now time.Time) (ports.NextAuthData, error) {
	var data ports.NextAuthData
	conn, err := pgx.Connect(ctx, s.url)
	if err != nil {
		return data, fmt.Errorf("connect: %s", redact(err))
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return data, fmt.Errorf("begin snapshot: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	// Prisma writes timestamp(3) without time zone in UTC.
	if _, err := tx.Exec(ctx, "SET LOCAL TimeZone = 'UTC'"); err != nil {
		return data, err
	}
	schema := s.ov.Schema
	if schema == "" {
		if err := tx.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
			return data, err
		}
	}
	tables, err := s.introspect(ctx, tx, schema)
	if err != nil {
		return data, err
	}
	for _, t := range schemaShape {
		if r, ok := tables[t.name]; ok {
			data.Found = append(data.Found, r.describe())
		}
	}
	if err := readUsers(ctx, tx, schema, tables["users"], &data); err != nil {
		return data, err
	}
	if err := readAccounts(ctx, tx, schema, tables["accounts"], &data); err != nil {
		return data, err
	}
	if err := readSessions(ctx, tx, schema, tables["sessions"], now, &data); err != nil {
		return data, err
	}
	if r, ok := tables["user_roles"]; ok {
		if err := readRoles(ctx, tx, schema, r, &data); err != nil {
			return data, err
		}
	}
	if r, ok := tables["user_organizations"]; ok {
		if err := readMemberships(ctx, tx, schema, r, &data); err != nil {
			return data, err
		}
	}
	return data, tx.Commit(ctx)
}

func normalize(s string) string { return strings.ReplaceAll(strings.ToLower(s), "_", "") }

// introspect maps every logical table and column to the database's names.
func (s *Source) introspect(ctx context.Context, tx pgx.Tx, schema string) (map[string]resolved, error) {
	rows, err := tx.Query(ctx, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = $1 ORDER BY table_name, ordinal_position`, schema)
	if err != nil {
		return nil, fmt.Errorf("introspect: %w", err)
	}
	cols := map[string][]string{}
	for rows.Next() {
		var t, c string
		if err := rows.Scan(&t, &c); err != nil {
			return nil, err
		}
		cols[t] = append(cols[t], c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("introspect: %w", err)
	}
	out := map[string]resolved{}
	for _, t := range schemaShape {
		real, err := findTable(t, cols, s.ov.Tables[t.name], schema)
		if err != nil {
			return nil, err
		}
		if real == "" {
			continue
		}
		r := resolved{t: t, real: real, columns: map[string]string{}}
		for _, c := range t.columns {
			name, err := findColumn(t, c, real, cols[real], s.ov.Columns[t.name+"."+c.name])
			if err != nil {
				return nil, err
			}
			r.columns[c.name] = name
		}
		out[t.name] = r
	}
	return out, nil
}

func findTable(t table, cols map[string][]string, override, schema string) (string, error) {
	if override == "-" {
		if t.required {
			return "", fmt.Errorf("--table %s=-: the %s table cannot be skipped", t.name, t.name)
		}
		return "", nil
	}
	if override != "" {
		if _, ok := cols[override]; !ok {
			return "", fmt.Errorf("--table %s=%s: schema %q has no table %q", t.name, override, schema, override)
		}
		return override, nil
	}
	var found []string // every candidate: "User" beside "users" is two apps' tables, not a choice to guess
	for _, want := range t.names {
		for real := range cols {
			if normalize(real) == want {
				found = append(found, real)
			}
		}
	}
	sort.Strings(found)
	switch {
	case len(found) > 1:
		return "", fmt.Errorf("schema %q has several %s tables (%s): pick one with --table %s=NAME",
			schema, t.name, strings.Join(quoteAll(found), ", "), t.name)
	case len(found) == 1:
		return found[0], nil
	case t.required:
		return "", fmt.Errorf("schema %q has no %s table (looked for %s, any case, with or without underscores): name it with --table %s=NAME",
			schema, t.name, strings.Join(t.names, ", "), t.name)
	}
	return "", nil
}

func findColumn(t table, c column, real string, have []string, override string) (string, error) {
	if override != "" {
		for _, h := range have {
			if h == override {
				return h, nil
			}
		}
		return "", fmt.Errorf("--column %s.%s=%s: table %q has no column %q", t.name, c.name, override, real, override)
	}
	for _, want := range c.names {
		for _, h := range have {
			if normalize(h) == want {
				return h, nil
			}
		}
	}
	if c.required {
		return "", fmt.Errorf("table %q has no %s column (looked for %s, any case, with or without underscores): name it with --column %s.%s=NAME",
			real, c.name, strings.Join(c.names, ", "), t.name, c.name)
	}
	return "", nil
}

func (r resolved) describe() string {
	parts := make([]string, 0, len(r.t.columns))
	for _, c := range r.t.columns {
		if name := r.columns[c.name]; name != "" {
			parts = append(parts, c.name+"="+pgx.Identifier{name}.Sanitize())
		}
	}
	return fmt.Sprintf("%s: %s (%s)", r.t.name, pgx.Identifier{r.real}.Sanitize(), strings.Join(parts, ", "))
}

// selectList renders the logical columns as expressions of one type each, so
// integer ids (pg-adapter's SERIAL) read as text and a missing optional
// column reads as its zero value.
func (r resolved) selectList(names ...string) string {
	exprs := make([]string, len(names))
	for i, n := range names {
		var kind string
		for _, c := range r.t.columns {
			if c.name == n {
				kind = c.kind
			}
		}
		real := r.columns[n]
		switch {
		case real == "" && kind == "text":
			exprs[i] = "''"
		case real == "":
			exprs[i] = "NULL"
		case kind == "text":
			exprs[i] = "COALESCE(" + pgx.Identifier{real}.Sanitize() + "::text, '')"
		case kind == "time":
			exprs[i] = pgx.Identifier{real}.Sanitize() + "::timestamptz"
		case kind == "seconds":
			exprs[i] = pgx.Identifier{real}.Sanitize() + "::bigint"
		}
	}
	return strings.Join(exprs, ", ")
}

func (r resolved) from(schema string) string { return pgx.Identifier{schema, r.real}.Sanitize() }

func (r resolved) col(n string) string { return pgx.Identifier{r.columns[n]}.Sanitize() }

// query runs a read of one table; an error names it.
func query(ctx context.Context, tx pgx.Tx, r resolved, sql string, args []any, scan func(pgx.Rows) error) error {
	rows, err := tx.Query(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("reading table %q: %w", r.real, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("reading table %q: %w", r.real, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading table %q: %w", r.real, err)
	}
	return nil
}

func readUsers(ctx context.Context, tx pgx.Tx, schema string, r resolved, data *ports.NextAuthData) error {
	sql := "SELECT " + r.selectList("id", "name", "email", "email_verified", "image") + " FROM " + r.from(schema) +
		" WHERE " + r.col("id") + " IS NOT NULL"
	return query(ctx, tx, r, sql, nil, func(rows pgx.Rows) error {
		var u ports.NextAuthUser
		if err := rows.Scan(&u.ID, &u.Name, &u.Email, &u.EmailVerified, &u.Image); err != nil {
			return err
		}
		if u.EmailVerified != nil {
			t := u.EmailVerified.UTC()
			u.EmailVerified = &t
		}
		data.Users = append(data.Users, u)
		return nil
	})
}

func readAccounts(ctx context.Context, tx pgx.Tx, schema string, r resolved, data *ports.NextAuthData) error {
	sql := "SELECT " + r.selectList("user_id", "type", "provider", "provider_account_id", "access_token", "refresh_token",
		"id_token", "expires_at", "scope", "session_state") + " FROM " + r.from(schema)
	return query(ctx, tx, r, sql, nil, func(rows pgx.Rows) error {
		var a ports.NextAuthAccount
		var exp *int64
		if err := rows.Scan(&a.UserID, &a.Type, &a.Provider, &a.ProviderAccountID, &a.AccessToken, &a.RefreshToken,
			&a.IDToken, &exp, &a.Scope, &a.SessionState); err != nil {
			return err
		}
		if exp != nil && *exp > 0 {
			a.ExpiresAt = time.Unix(*exp, 0).UTC()
		}
		data.Accounts = append(data.Accounts, a)
		return nil
	})
}

func readSessions(ctx context.Context, tx pgx.Tx, schema string, r resolved, now time.Time, data *ports.NextAuthData) error {
	sql := "SELECT " + r.selectList("session_token", "user_id", "expires") + " FROM " + r.from(schema) +
		" WHERE " + r.col("expires") + "::timestamptz > $1 AND " + r.col("session_token") + " IS NOT NULL"
	return query(ctx, tx, r, sql, []any{now}, func(rows pgx.Rows) error {
		var s ports.NextAuthSession
		if err := rows.Scan(&s.Token, &s.UserID, &s.Expires); err != nil {
			return err
		}
		s.Expires = s.Expires.UTC()
		data.Sessions = append(data.Sessions, s)
		return nil
	})
}

func readRoles(ctx context.Context, tx pgx.Tx, schema string, r resolved, data *ports.NextAuthData) error {
	sql := "SELECT " + r.selectList("user_id", "role") + " FROM " + r.from(schema)
	return query(ctx, tx, r, sql, nil, func(rows pgx.Rows) error {
		var x ports.NextAuthRole
		if err := rows.Scan(&x.UserID, &x.Role); err != nil {
			return err
		}
		data.Roles = append(data.Roles, x)
		return nil
	})
}

func readMemberships(ctx context.Context, tx pgx.Tx, schema string, r resolved, data *ports.NextAuthData) error {
	sql := "SELECT " + r.selectList("user_id", "organization_id", "alias", "name", "tenant_id") + " FROM " + r.from(schema)
	return query(ctx, tx, r, sql, nil, func(rows pgx.Rows) error {
		var m ports.NextAuthMembership
		if err := rows.Scan(&m.UserID, &m.OrganizationID, &m.Alias, &m.Name, &m.TenantID); err != nil {
			return err
		}
		data.Memberships = append(data.Memberships, m)
		return nil
	})
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = pgx.Identifier{s}.Sanitize()
	}
	return out
}

// redact keeps a connection error's reason without the URL's password.
func redact(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "://"); i >= 0 {
		if at := strings.Index(msg[i:], "@"); at > 0 {
			msg = msg[:i+3] + "…" + msg[i+at:]
		}
	}
	return msg
}
