package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"

	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
)

// GET /session renders the session, its user, and the user's roles and
// organizations. Aggregating four tables on every read cost PostgreSQL four
// times a plain index lookup, so the roles and organizations are kept, as the
// JSON arrays the read decodes, on the user row (users.roles_view,
// users.orgs_view): written by SyncIdentity in its transaction, cleared by
// triggers when anything else changes a membership. A cleared (NULL) view is
// aggregated from the normalised tables on read, which stay the source of
// truth. Each session row carries a copy of its user's name, email, image
// and snapshot (sessions.user_view, kept by triggers; see migration
// 20261201000005), so the read is one row without a join.

// rolesAgg and orgsAgg aggregate a user's roles and organizations as the
// JSON arrays decodeRoles and decodeOrganizations read; user is the SQL
// expression of the user id.
func (db *DB) rolesAgg(user string) string {
	agg := "json_agg(json_build_array(x.name, x.source) ORDER BY x.source, x.name)::text"
	if !db.isPostgres() {
		agg = "json_group_array(json_array(x.name, x.source))"
	}
	return `(SELECT coalesce(` + agg + `, '[]') FROM (SELECT r.name, r.source FROM user_roles ur
		JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = ` + user + ` ORDER BY r.source, r.name) x)`
}

func (db *DB) orgsAgg(user string) string {
	agg := "json_agg(json_build_array(x.id, x.alias, x.name, x.tenant_id, x.external_id) ORDER BY x.alias)::text"
	if !db.isPostgres() {
		agg = "json_group_array(json_array(x.id, x.alias, x.name, x.tenant_id, x.external_id))"
	}
	return `(SELECT coalesce(` + agg + `, '[]') FROM (SELECT o.id, o.alias, o.name, o.tenant_id,
		coalesce(o.external_id, '') AS external_id FROM user_organizations uo
		JOIN organizations o ON o.id = uo.organization_id WHERE uo.user_id = ` + user + ` ORDER BY o.alias) x)`
}

// writeSessionView recomputes the user's snapshot inside tx, after a sync
// changed roles or memberships.
func (db *DB) writeSessionView(ctx context.Context, tx bun.Tx, userID string) error {
	_, err := tx.NewRaw(`UPDATE users SET roles_view = `+db.rolesAgg("users.id")+`, orgs_view = `+
		db.orgsAgg("users.id")+` WHERE id = ?`, userID).Exec(ctx)
	return err
}

// lookupSQL is the statement of a session read. The view read (GET
// /session) is one index lookup of one row: the session carries a copy of
// what the JSON shows of its user (sessions.user_view, kept equal to the
// user row by triggers), and only the columns rendering and the expiry
// checks need, since every column costs PostgreSQL output work and the
// client its decoding. The full read (with the sealed tokens, for the token
// endpoint and the proxy) joins the user by primary key. Neither has a
// fallback subquery for a missing copy or a cleared snapshot: PostgreSQL
// initialises every subplan of a statement on each execution, used or not,
// so those cost a second statement instead (userViewSQL, aggregateView).
func lookupSQL(param string, withTokens bool) string {
	if !withTokens {
		return `SELECT ` + leanColumns + ` FROM sessions WHERE token_hash = ` + param
	}
	return `SELECT s.*, u.name AS u_name, coalesce(u.email, '') AS u_email, u.email_verified AS u_email_verified,
	u.image AS u_image, u.created_at AS u_created_at, u.updated_at AS u_updated_at,
	u.roles_view AS roles_json, u.orgs_view AS orgs_json
FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ` + param
}

// LookupView implements ports.SessionStore: Lookup without the sealed
// tokens, served from this process's session cache when one is configured
// and the row was read recently.
func (s *SessionStore) LookupView(ctx context.Context, hash domain.TokenHash) (ports.SessionView, error) {
	c := s.db.cache
	if c == nil {
		return s.lookupLean(ctx, hash)
	}
	if v, ok := c.get(hash, time.Now()); ok {
		return v, nil
	}
	gen := c.generation()
	v, err := s.lookupLean(ctx, hash)
	if err == nil {
		v.Rendered = &ports.RenderMemo{}
		c.put(hash, v, gen, time.Now())
	}
	return v, err
}

// lookupLean reads what LookupView returns, scanning the columns
// directly: no reflection on the hot path.
func (s *SessionStore) lookupLean(ctx context.Context, hash domain.TokenHash) (ports.SessionView, error) {
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	var row leanRow
	var found bool
	var err error
	if s.db.reads != nil {
		row, found, err = s.db.reads.read(ctx, string(hash))
	} else {
		row, found, err = s.db.readLeanRow(ctx, s.lookupViewSQL, string(hash))
	}
	if err != nil {
		return ports.SessionView{}, mapError(err)
	}
	if !found {
		return ports.SessionView{}, domain.ErrSessionNotFound
	}
	r := row.record
	r.TokenHash, r.Expires, r.AbsoluteExpires = hash, r.Expires.UTC(), r.AbsoluteExpires.UTC()
	view := ports.SessionView{Session: domain.RehydrateSession(r), User: domain.User{ID: r.UserID}}
	if row.userJSON.Valid {
		uv, err := decodeUserView(row.userJSON.String)
		if err != nil {
			return ports.SessionView{}, err
		}
		view.User.Name, view.User.Email, view.User.Image = uv.Name, uv.Email, uv.Image
		view.Roles, view.Organizations = rolesOf(uv.Roles), organizationsOf(uv.Orgs)
		return view, nil
	}
	if err := s.readUserView(ctx, &view); err != nil {
		return ports.SessionView{}, err
	}
	return view, nil
}

// readUserView fills in the user part of a view from the user row, for a
// session without its copy: one more primary-key read, and the aggregation
// of the normalised tables when the user's snapshot is cleared too.
func (s *SessionStore) readUserView(ctx context.Context, view *ports.SessionView) error {
	u := &view.User
	var roles, orgs sql.NullString
	err := s.db.queryRow(ctx, s.userViewSQL, u.ID).Scan(&u.Name, &u.Email, &u.Image, &roles, &orgs)
	if errors.Is(err, sql.ErrNoRows) || errors.Is(err, pgx.ErrNoRows) {
		return domain.ErrSessionNotFound // the user went away between the two reads
	}
	if err != nil {
		return mapError(err)
	}
	if !roles.Valid || !orgs.Valid {
		if roles.String, orgs.String, err = s.aggregateView(ctx, u.ID); err != nil {
			return mapError(err)
		}
	}
	if view.Roles, err = decodeRoles(roles.String); err != nil {
		return err
	}
	view.Organizations, err = decodeOrganizations(orgs.String)
	return err
}

// queryRow runs one prepared statement: on PostgreSQL through the pgx pool
// directly, not database/sql (this read is most of authbff's traffic, and
// the database/sql layer cost a fifth of its CPU).
// Each statement is one "db query" line in the debug log (bun's hook does
// not see it).
func (db *DB) queryRow(ctx context.Context, query string, arg string) interface{ Scan(...any) error } {
	if db.qlog != nil {
		defer func(start time.Time) { db.qlog.record(ctx, "SELECT", start, nil) }(time.Now())
	}
	if db.pool != nil {
		return db.pool.QueryRow(ctx, query, pgx.QueryExecModeCacheStatement, arg)
	}
	return db.DB.DB.QueryRowContext(ctx, query, arg)
}

// aggregateView computes a user's roles and organizations from the
// normalised tables, for a user whose snapshot was cleared (a membership
// changed outside a sync). The next sync writes the snapshot again.
func (s *SessionStore) aggregateView(ctx context.Context, userID string) (roles, orgs string, err error) {
	err = s.db.NewRaw(`SELECT `+s.db.rolesAgg("?")+`, `+s.db.orgsAgg("?"), userID, userID).Scan(ctx, &roles, &orgs)
	return roles, orgs, err
}

// Lookup implements ports.SessionStore in one round trip: the session with
// its tokens, its user, and the user's roles and organizations.
func (s *SessionStore) Lookup(ctx context.Context, hash domain.TokenHash) (ports.SessionView, error) {
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	var row lookupRow
	err := s.lookup(ctx, hash, &row)
	if errors.Is(err, sql.ErrNoRows) {
		return ports.SessionView{}, domain.ErrSessionNotFound
	}
	if err != nil {
		return ports.SessionView{}, mapError(err)
	}
	view := ports.SessionView{
		Session: row.sessionRow.toDomain(),
		User: domain.User{
			ID: row.UserID, Name: row.UserName, Email: row.UserEmail, EmailVerified: row.UserEmailVerified,
			Image: row.UserImage, CreatedAt: row.UserCreatedAt.UTC(), UpdatedAt: row.UserUpdatedAt.UTC(),
		},
	}
	if row.RolesJSON == nil || row.OrgsJSON == nil {
		roles, orgs, err := s.aggregateView(ctx, row.UserID)
		if err != nil {
			return ports.SessionView{}, mapError(err)
		}
		row.RolesJSON, row.OrgsJSON = &roles, &orgs
	}
	if view.Roles, err = decodeRoles(*row.RolesJSON); err != nil {
		return ports.SessionView{}, err
	}
	if view.Organizations, err = decodeOrganizations(*row.OrgsJSON); err != nil {
		return ports.SessionView{}, err
	}
	return view, nil
}

// lookup runs the lookup statement. On PostgreSQL it is a real prepared
// statement ($1, cached per connection by pgx), so the server plans it once
// per connection instead of on every request (bun would write the hash into
// the text, making every statement new), run on the pgx pool directly and
// scanned without reflection: every proxied request and token read makes
// it. Like the view read, it goes through a readBatcher, so the reads of
// concurrent API calls share statements under load.
func (s *SessionStore) lookup(ctx context.Context, hash domain.TokenHash, row *lookupRow) error {
	if !s.db.isPostgres() {
		return s.db.NewRaw(lookupSQL("?", true), string(hash)).Scan(ctx, row)
	}
	found, ok, err := s.db.fullReads.read(ctx, string(hash))
	if err != nil {
		return err
	}
	if !ok {
		return sql.ErrNoRows
	}
	*row = found
	return nil
}

// lookupFullPG is lookupSQL's full read with its columns named, in the
// order scanFull reads them (nullable text as ”, as bun's nullzero reads
// it); lookupFullBatchPG the same for several token hashes at once.
const (
	lookupFullPG      = `SELECT ` + fullColumns + ` FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1`
	lookupFullBatchPG = `SELECT ` + fullColumns + ` FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ANY($1)`
	fullColumns       = `s.id, s.token_hash, s.user_id, s.expires, s.absolute_expires,
	coalesce(s.active_organization_id, ''), s.provider, coalesce(s.provider_session_id, ''),
	s.access_token, s.refresh_token, s.id_token, s.access_token_expires_at, s.refresh_token_expires_at,
	s.scope, s.ip_address, s.user_agent, s.last_seen_at, s.created_at, s.updated_at,
	u.name, coalesce(u.email, ''), u.email_verified, u.image, u.created_at, u.updated_at, u.roles_view, u.orgs_view`
)

// scanFull reads one row of fullColumns.
func scanFull(r interface{ Scan(...any) error }, row *lookupRow) error {
	var atExp, rtExp, verified *time.Time
	err := r.Scan(&row.ID, &row.TokenHash, &row.UserID, &row.Expires,
		&row.AbsoluteExpires, &row.ActiveOrganizationID, &row.Provider, &row.ProviderSessionID, &row.AccessToken,
		&row.RefreshToken, &row.IDToken, &atExp, &rtExp, &row.Scope, &row.IPAddress, &row.UserAgent, &row.LastSeenAt,
		&row.CreatedAt, &row.UpdatedAt, &row.UserName, &row.UserEmail, &verified, &row.UserImage, &row.UserCreatedAt,
		&row.UserUpdatedAt, &row.RolesJSON, &row.OrgsJSON)
	if err != nil {
		return err
	}
	if atExp != nil {
		row.AccessTokenExpiresAt = *atExp
	}
	if rtExp != nil {
		row.RefreshTokenExpiresAt = *rtExp
	}
	row.UserEmailVerified = verified
	return nil
}
