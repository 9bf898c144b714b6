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
	"strconv"
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

// Stream implements ports.NextAuthSource. Every table is read through a
// cursor ordered by the UTF-8 bytes of the user id (Go's string order), all
// in one repeatable-read transaction: a batch of users is
// fetched, then from each other table the rows up to the batch's last user
// id, as a merge join does. Only the current batch and one fetch per table
// are ever in memory; PostgreSQL sorts each table once. The transaction, a
// read-only snapshot of the old database (never of authbff's), stays open
// for the whole import.
func (s *Source) Stream(ctx context.Context, now time.Time, size int, fn func(ports.NextAuthData) error) (ports.NextAuthSummary, error) {
	var sum ports.NextAuthSummary
	if size <= 0 {
		size = 1000
	}
	conn, err := pgx.Connect(ctx, s.url)
	if err != nil {
		return sum, fmt.Errorf("connect: %s", redact(err))
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return sum, fmt.Errorf("begin snapshot: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	// Prisma writes timestamp(3) without time zone in UTC. The snapshot sits
	// idle while each batch is written to authbff's database: a server's
	// idle_in_transaction_session_timeout must not end it half-way.
	for _, set := range []string{"SET LOCAL TimeZone = 'UTC'", "SET LOCAL idle_in_transaction_session_timeout = 0"} {
		if _, err := tx.Exec(ctx, set); err != nil {
			return sum, err
		}
	}
	schema := s.ov.Schema
	if schema == "" {
		if err := tx.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
			return sum, err
		}
	}
	tables, err := s.introspect(ctx, tx, schema)
	if err != nil {
		return sum, err
	}
	for _, t := range schemaShape {
		if r, ok := tables[t.name]; ok {
			sum.Found = append(sum.Found, r.describe())
		}
	}
	c, err := openCursors(ctx, tx, schema, tables, now, size)
	if err != nil {
		return sum, err
	}
	var prev *string // the previous batch's last user id
	for {
		users, err := c.users.take(ctx, size)
		if err != nil {
			return sum, err
		}
		if len(users) == 0 {
			break
		}
		last := users[len(users)-1].ID
		batch, err := c.through(ctx, users, prev, last, &sum.Orphans)
		if err != nil {
			return sum, err
		}
		prev = &last
		if err := fn(batch); err != nil {
			return sum, err
		}
	}
	// What is left belongs to ids past the last user.
	if err := c.drain(ctx, &sum.Orphans); err != nil {
		return sum, err
	}
	return sum, tx.Commit(ctx)
}

// cursors are the open cursors of one read; roles and memberships are nil
// when their optional table is absent.
type cursors struct {
	users       *cursor[ports.NextAuthUser]
	accounts    *cursor[ports.NextAuthAccount]
	sessions    *cursor[ports.NextAuthSession]
	roles       *cursor[ports.NextAuthRole]
	memberships *cursor[ports.NextAuthMembership]
}

func openCursors(ctx context.Context, tx pgx.Tx, schema string, tables map[string]resolved, now time.Time, size int) (cursors, error) {
	var c cursors
	var err error
	u := tables["users"]
	c.users, err = declare(ctx, tx, "authbff_users", u, "SELECT "+u.selectList("id", "name", "email", "email_verified", "image")+
		" FROM "+u.from(schema)+" WHERE "+u.col("id")+" IS NOT NULL ORDER BY "+u.orderKey("id"), size, scanUser,
		func(x ports.NextAuthUser) string { return x.ID })
	if err != nil {
		return c, err
	}
	a := tables["accounts"]
	c.accounts, err = declare(ctx, tx, "authbff_accounts", a, "SELECT "+a.selectList("user_id", "type", "provider",
		"provider_account_id", "access_token", "refresh_token", "id_token", "expires_at", "scope", "session_state")+
		" FROM "+a.from(schema)+" ORDER BY "+a.orderKey("user_id"), size, scanAccount,
		func(x ports.NextAuthAccount) string { return x.UserID })
	if err != nil {
		return c, err
	}
	// now is written as a literal: a cursor's query takes no parameters.
	se := tables["sessions"]
	c.sessions, err = declare(ctx, tx, "authbff_sessions", se, "SELECT "+se.selectList("session_token", "user_id", "expires")+
		" FROM "+se.from(schema)+" WHERE "+se.col("expires")+"::timestamptz > '"+now.UTC().Format(time.RFC3339Nano)+
		"'::timestamptz AND "+se.col("session_token")+" IS NOT NULL ORDER BY "+se.orderKey("user_id"), size, scanSession,
		func(x ports.NextAuthSession) string { return x.UserID })
	if err != nil {
		return c, err
	}
	if r, ok := tables["user_roles"]; ok {
		c.roles, err = declare(ctx, tx, "authbff_roles", r, "SELECT "+r.selectList("user_id", "role")+" FROM "+r.from(schema)+
			" ORDER BY "+r.orderKey("user_id"), size, scanRole, func(x ports.NextAuthRole) string { return x.UserID })
		if err != nil {
			return c, err
		}
	}
	if r, ok := tables["user_organizations"]; ok {
		c.memberships, err = declare(ctx, tx, "authbff_memberships", r, "SELECT "+r.selectList("user_id", "organization_id",
			"alias", "name", "tenant_id")+" FROM "+r.from(schema)+" ORDER BY "+r.orderKey("user_id"), size, scanMembership,
			func(x ports.NextAuthMembership) string { return x.UserID })
	}
	return c, err
}

// through assembles the batch of users: every row of the other tables up
// to last, those of users outside the batch (no such user) left out and
// counted in orphans. A user whose id repeats the previous batch's last
// (prev; a users table without a primary key) is left out too: its rows
// went with that batch.
func (c cursors) through(ctx context.Context, users []ports.NextAuthUser, prev *string, last string,
	orphans *ports.NextAuthOrphans) (ports.NextAuthData, error) {
	batch := ports.NextAuthData{Users: make([]ports.NextAuthUser, 0, len(users))}
	ids := make(map[string]bool, len(users))
	for _, u := range users {
		if !ids[u.ID] && (prev == nil || u.ID != *prev) {
			ids[u.ID] = true
			batch.Users = append(batch.Users, u)
		}
	}
	var err error
	if batch.Accounts, err = mine(ctx, c.accounts, ids, last, &orphans.Accounts); err != nil {
		return batch, err
	}
	if batch.Sessions, err = mine(ctx, c.sessions, ids, last, &orphans.Sessions); err != nil {
		return batch, err
	}
	if batch.Roles, err = mine(ctx, c.roles, ids, last, &orphans.Roles); err != nil {
		return batch, err
	}
	batch.Memberships, err = mine(ctx, c.memberships, ids, last, &orphans.Memberships)
	return batch, err
}

// drain counts every row left in the cursors as an orphan.
func (c cursors) drain(ctx context.Context, orphans *ports.NextAuthOrphans) error {
	return errors.Join(drainInto(ctx, c.accounts, &orphans.Accounts), drainInto(ctx, c.sessions, &orphans.Sessions),
		drainInto(ctx, c.roles, &orphans.Roles), drainInto(ctx, c.memberships, &orphans.Memberships))
}

func drainInto[T any](ctx context.Context, c *cursor[T], n *int64) error {
	if c == nil {
		return nil
	}
	k, err := c.drain(ctx)
	*n += k
	return err
}

// mine takes c's rows up to last and keeps those of the users in ids,
// counting the others in orphans. A nil cursor (an absent optional table)
// has no rows.
func mine[T any](ctx context.Context, c *cursor[T], ids map[string]bool, last string, orphans *int64) ([]T, error) {
	if c == nil {
		return nil, nil
	}
	rows, err := c.through(ctx, last)
	if err != nil {
		return nil, err
	}
	kept := rows[:0]
	for _, r := range rows {
		if ids[c.key(r)] {
			kept = append(kept, r)
		} else {
			*orphans++
		}
	}
	return kept, nil
}

// cursor reads one table's rows in order of their user id, a fetch at a
// time.
type cursor[T any] struct {
	tx    pgx.Tx
	name  string // the SQL cursor
	table string // the real table, for errors
	size  int
	scan  func(pgx.Rows) (T, error)
	key   func(T) string // the user id the rows are ordered by
	buf   []T
	done  bool
}

func declare[T any](ctx context.Context, tx pgx.Tx, name string, r resolved, sql string, size int,
	scan func(pgx.Rows) (T, error), key func(T) string) (*cursor[T], error) {
	if _, err := tx.Exec(ctx, "DECLARE "+name+" NO SCROLL CURSOR FOR "+sql); err != nil {
		return nil, fmt.Errorf("reading table %q: %w", r.real, err)
	}
	return &cursor[T]{tx: tx, name: name, table: r.real, size: size, scan: scan, key: key}, nil
}

// fill fetches the next rows once the buffer is used up.
func (c *cursor[T]) fill(ctx context.Context) error {
	if len(c.buf) > 0 || c.done {
		return nil
	}
	rows, err := c.tx.Query(ctx, "FETCH FORWARD "+strconv.Itoa(c.size)+" FROM "+c.name)
	if err != nil {
		return fmt.Errorf("reading table %q: %w", c.table, err)
	}
	defer rows.Close()
	c.buf = nil // grows as rows come: a large --batch costs only what the table holds
	for rows.Next() {
		x, err := c.scan(rows)
		if err != nil {
			return fmt.Errorf("reading table %q: %w", c.table, err)
		}
		c.buf = append(c.buf, x)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading table %q: %w", c.table, err)
	}
	c.done = len(c.buf) < c.size
	return nil
}

// take returns the next n rows, fewer at the end.
func (c *cursor[T]) take(ctx context.Context, n int) ([]T, error) {
	var out []T
	for len(out) < n {
		if err := c.fill(ctx); err != nil {
			return nil, err
		}
		if len(c.buf) == 0 {
			break
		}
		k := min(n-len(out), len(c.buf))
		out = append(out, c.buf[:k]...)
		c.buf = c.buf[k:]
	}
	return out, nil
}

// through returns the next rows whose key is at most last.
func (c *cursor[T]) through(ctx context.Context, last string) ([]T, error) {
	var out []T
	for {
		if err := c.fill(ctx); err != nil {
			return nil, err
		}
		i := 0
		for i < len(c.buf) && c.key(c.buf[i]) <= last {
			i++
		}
		out = append(out, c.buf[:i]...)
		c.buf = c.buf[i:]
		if len(c.buf) > 0 || c.done {
			return out, nil
		}
	}
}

// drain counts the rows left.
func (c *cursor[T]) drain(ctx context.Context) (int64, error) {
	var n int64
	for {
		if err := c.fill(ctx); err != nil {
			return 0, err
		}
		if len(c.buf) == 0 {
			return n, nil
		}
		n += int64(len(c.buf))
		c.buf = c.buf[:0]
	}
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

// orderKey orders by a text column's UTF-8 bytes: the order in which Go
// compares the strings pgx hands it (pgx talks UTF-8), whatever the
// database's collation or encoding.
func (r resolved) orderKey(n string) string {
	return "convert_to(COALESCE(" + r.col(n) + "::text, ''), 'UTF8')"
}

func scanUser(rows pgx.Rows) (ports.NextAuthUser, error) {
	var u ports.NextAuthUser
	if err := rows.Scan(&u.ID, &u.Name, &u.Email, &u.EmailVerified, &u.Image); err != nil {
		return u, err
	}
	if u.EmailVerified != nil {
		t := u.EmailVerified.UTC()
		u.EmailVerified = &t
	}
	return u, nil
}

func scanAccount(rows pgx.Rows) (ports.NextAuthAccount, error) {
	var a ports.NextAuthAccount
	var exp *int64
	if err := rows.Scan(&a.UserID, &a.Type, &a.Provider, &a.ProviderAccountID, &a.AccessToken, &a.RefreshToken,
		&a.IDToken, &exp, &a.Scope, &a.SessionState); err != nil {
		return a, err
	}
	if exp != nil && *exp > 0 {
		a.ExpiresAt = time.Unix(*exp, 0).UTC()
	}
	return a, nil
}

func scanSession(rows pgx.Rows) (ports.NextAuthSession, error) {
	var s ports.NextAuthSession
	err := rows.Scan(&s.Token, &s.UserID, &s.Expires)
	s.Expires = s.Expires.UTC()
	return s, err
}

func scanRole(rows pgx.Rows) (ports.NextAuthRole, error) {
	var x ports.NextAuthRole
	err := rows.Scan(&x.UserID, &x.Role)
	return x, err
}

func scanMembership(rows pgx.Rows) (ports.NextAuthMembership, error) {
	var m ports.NextAuthMembership
	err := rows.Scan(&m.UserID, &m.OrganizationID, &m.Alias, &m.Name, &m.TenantID)
	return m, err
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
