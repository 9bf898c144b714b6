package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"

	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
)

type sessionRow struct {
	bun.BaseModel `bun:"table:sessions,alias:s"`

	ID                    string    `bun:"id,pk"`
	TokenHash             string    `bun:"token_hash,notnull"`
	UserID                string    `bun:"user_id,notnull"`
	Expires               time.Time `bun:"expires,notnull"`
	AbsoluteExpires       time.Time `bun:"absolute_expires,notnull"`
	ActiveOrganizationID  string    `bun:"active_organization_id,nullzero"`
	Provider              string    `bun:"provider,notnull"`
	ProviderSessionID     string    `bun:"provider_session_id,nullzero"`
	AccessToken           []byte    `bun:"access_token"`
	RefreshToken          []byte    `bun:"refresh_token"`
	IDToken               []byte    `bun:"id_token"`
	AccessTokenExpiresAt  time.Time `bun:"access_token_expires_at,nullzero"`
	RefreshTokenExpiresAt time.Time `bun:"refresh_token_expires_at,nullzero"`
	Scope                 string    `bun:"scope,notnull"`
	IPAddress             string    `bun:"ip_address,notnull"`
	UserAgent             string    `bun:"user_agent,notnull"`
	LastSeenAt            time.Time `bun:"last_seen_at,notnull"`
	CreatedAt             time.Time `bun:"created_at,notnull"`
	UpdatedAt             time.Time `bun:"updated_at,notnull"`
}

func sessionFromDomain(s *domain.Session) *sessionRow {
	r := s.Record()
	return &sessionRow{
		ID: r.ID, TokenHash: string(r.TokenHash), UserID: r.UserID,
		Expires: r.Expires.UTC(), AbsoluteExpires: r.AbsoluteExpires.UTC(),
		ActiveOrganizationID: r.ActiveOrganizationID, Provider: r.Provider, ProviderSessionID: r.ProviderSessionID,
		AccessToken: r.Tokens.AccessToken, RefreshToken: r.Tokens.RefreshToken, IDToken: r.Tokens.IDToken,
		AccessTokenExpiresAt: utcOrZero(r.Tokens.AccessTokenExpiresAt), RefreshTokenExpiresAt: utcOrZero(r.Tokens.RefreshTokenExpiresAt),
		Scope: r.Tokens.Scope, IPAddress: r.IPAddress, UserAgent: r.UserAgent,
		LastSeenAt: r.LastSeenAt.UTC(), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

func (r *sessionRow) toDomain() *domain.Session {
	return domain.RehydrateSession(domain.SessionRecord{
		ID: r.ID, TokenHash: domain.TokenHash(r.TokenHash), UserID: r.UserID,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), LastSeenAt: r.LastSeenAt.UTC(),
		Expires: r.Expires.UTC(), AbsoluteExpires: r.AbsoluteExpires.UTC(),
		ActiveOrganizationID: r.ActiveOrganizationID, Provider: r.Provider, ProviderSessionID: r.ProviderSessionID,
		Tokens: domain.SealedTokens{
			AccessToken: r.AccessToken, RefreshToken: r.RefreshToken, IDToken: r.IDToken,
			AccessTokenExpiresAt: utcOrZero(r.AccessTokenExpiresAt), RefreshTokenExpiresAt: utcOrZero(r.RefreshTokenExpiresAt),
			Scope: r.Scope,
		},
		IPAddress: r.IPAddress, UserAgent: r.UserAgent,
	})
}

func utcOrZero(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// SessionStore implements ports.SessionStore.
type SessionStore struct{ db *DB }

// NewSessionStore returns a SessionStore on db.
func NewSessionStore(db *DB) *SessionStore { return &SessionStore{db: db} }

var _ ports.SessionStore = (*SessionStore)(nil)

// Create implements ports.SessionStore.
func (s *SessionStore) Create(ctx context.Context, sess *domain.Session) error {
	if s.db.cannotBeID(sess.UserID()) {
		return fmt.Errorf("create session: %w", domain.ErrUserNotFound)
	}
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	_, err := s.db.NewInsert().Model(sessionFromDomain(sess)).Exec(ctx)
	if err = mapError(err); errors.Is(err, errForeignKey) {
		return fmt.Errorf("create session: %w", domain.ErrUserNotFound)
	}
	return err
}

// lookupRow is a session joined with its user and the user's roles and
// organizations aggregated as JSON, so Lookup is one statement.
type lookupRow struct {
	sessionRow
	UserName          string     `bun:"u_name"`
	UserEmail         string     `bun:"u_email"`
	UserEmailVerified *time.Time `bun:"u_email_verified"`
	UserImage         string     `bun:"u_image"`
	UserCreatedAt     time.Time  `bun:"u_created_at"`
	UserUpdatedAt     time.Time  `bun:"u_updated_at"`
	RolesJSON         string     `bun:"roles_json"`
	OrgsJSON          string     `bun:"orgs_json"`
}

// Lookup implements ports.SessionStore in one round trip: the session, its
// user, and the user's roles and organizations as JSON arrays.
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
	if view.Roles, err = decodeRoles(row.RolesJSON); err != nil {
		return ports.SessionView{}, err
	}
	if view.Organizations, err = decodeOrganizations(row.OrgsJSON); err != nil {
		return ports.SessionView{}, err
	}
	return view, nil
}

// lookup runs the lookup statement. On PostgreSQL it is a real prepared
// statement ($1, cached per connection by pgx), so the server plans it once
// per connection instead of on every request: bun would write the hash into
// the text, making every statement new.
func (s *SessionStore) lookup(ctx context.Context, hash domain.TokenHash, row *lookupRow) error {
	if !s.db.isPostgres() {
		return s.db.NewRaw(s.lookupSQL("?"), string(hash)).Scan(ctx, row)
	}
	if s.db.qlog != nil {
		defer func(start time.Time) { s.db.qlog.record(ctx, "SELECT", start, nil) }(time.Now())
	}
	rows, err := s.db.DB.DB.QueryContext(ctx, s.lookupSQL("$1"), pgx.QueryExecModeCacheStatement, string(hash))
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := s.db.ScanRow(ctx, rows, row); err != nil {
		return err
	}
	return rows.Err()
}

func (s *SessionStore) lookupSQL(param string) string {
	roles, orgs := "json_agg(json_build_array(x.name, x.source) ORDER BY x.source, x.name)",
		"json_agg(json_build_array(x.id, x.alias, x.name, x.tenant_id, x.external_id) ORDER BY x.alias)"
	if !s.db.isPostgres() {
		roles, orgs = "json_group_array(json_array(x.name, x.source))",
			"json_group_array(json_array(x.id, x.alias, x.name, x.tenant_id, x.external_id))"
	}
	return `SELECT s.*, u.name AS u_name, coalesce(u.email, '') AS u_email, u.email_verified AS u_email_verified,
	u.image AS u_image, u.created_at AS u_created_at, u.updated_at AS u_updated_at,
	(SELECT coalesce(` + roles + `, '[]') FROM (SELECT r.name, r.source FROM user_roles ur
		JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = s.user_id ORDER BY r.source, r.name) x) AS roles_json,
	(SELECT coalesce(` + orgs + `, '[]') FROM (SELECT o.id, o.alias, o.name, o.tenant_id, coalesce(o.external_id, '') AS external_id FROM user_organizations uo
		JOIN organizations o ON o.id = uo.organization_id WHERE uo.user_id = s.user_id ORDER BY o.alias) x) AS orgs_json
FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ` + param
}

func decodeRoles(js string) ([]domain.Role, error) {
	var raw [][2]string
	if err := json.Unmarshal([]byte(js), &raw); err != nil {
		return nil, fmt.Errorf("decode roles: %w", err)
	}
	roles := make([]domain.Role, 0, len(raw))
	for _, r := range raw {
		roles = append(roles, domain.Role{Name: r[0], Source: r[1]})
	}
	sortRoles(roles) // SQLite's json_group_array and collations do not promise byte order
	return roles, nil
}

func decodeOrganizations(js string) ([]domain.Organization, error) {
	var raw [][5]string
	if err := json.Unmarshal([]byte(js), &raw); err != nil {
		return nil, fmt.Errorf("decode organizations: %w", err)
	}
	orgs := make([]domain.Organization, 0, len(raw))
	for _, o := range raw {
		orgs = append(orgs, domain.Organization{ID: o[0], Alias: o[1], Name: o[2], TenantID: o[3], ExternalID: o[4]})
	}
	sort.Slice(orgs, func(i, j int) bool { return orgs[i].Alias < orgs[j].Alias })
	return orgs, nil
}

// Update implements ports.SessionStore. On PostgreSQL the row is locked with
// SELECT ... FOR UPDATE (waiting at most the pool timeout, via lock_timeout);
// on SQLite the IMMEDIATE transaction already holds the database's write
// lock.
//
// The transaction is not bound by the caller's deadline: fn may call the
// identity provider, and once it returned a rotated refresh token that
// token must be written, or the next refresh would present a dead one and
// the IdP would end the session. So the transaction gets the caller's
// remaining time plus the pool timeout, detached from cancellation.
func (s *SessionStore) Update(ctx context.Context, id string, fn func(*domain.Session) error) error {
	if s.db.cannotBeID(id) {
		return domain.ErrSessionNotFound
	}
	budget := s.db.cfg.PoolTimeout
	if deadline, ok := ctx.Deadline(); ok {
		budget += time.Until(deadline)
	}
	txCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), budget)
	defer cancel()
	err := s.db.RunInTx(txCtx, nil, func(txCtx context.Context, tx bun.Tx) error {
		row := new(sessionRow)
		q := tx.NewSelect().Model(row).Where("id = ?", id)
		if s.db.isPostgres() {
			ms := s.db.cfg.PoolTimeout.Milliseconds()
			if _, err := tx.ExecContext(txCtx, "SELECT set_config('lock_timeout', ?, true)", fmt.Sprintf("%dms", ms)); err != nil {
				return err
			}
			q = q.For("UPDATE")
		}
		if err := q.Scan(txCtx); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return domain.ErrSessionNotFound
			}
			return err
		}
		sess := row.toDomain()
		if err := fn(sess); err != nil {
			return errFromCallback{err}
		}
		_, err := tx.NewUpdate().Model(sessionFromDomain(sess)).WherePK().Exec(txCtx)
		return err
	})
	var cb errFromCallback
	if errors.As(err, &cb) {
		return cb.err
	}
	if errors.Is(err, domain.ErrSessionNotFound) {
		return err
	}
	return mapError(err)
}

// errFromCallback carries the caller's own error through RunInTx untouched.
type errFromCallback struct{ err error }

func (e errFromCallback) Error() string { return e.err.Error() }
func (e errFromCallback) Unwrap() error { return e.err }

// Delete implements ports.SessionStore.
func (s *SessionStore) Delete(ctx context.Context, id string) error {
	if s.db.cannotBeID(id) {
		return domain.ErrSessionNotFound
	}
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	res, err := s.db.NewDelete().TableExpr("sessions").Where("id = ?", id).Exec(ctx)
	if err != nil {
		return mapError(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return domain.ErrSessionNotFound
	}
	return nil
}

// ListByUser implements ports.SessionStore.
func (s *SessionStore) ListByUser(ctx context.Context, userID string) ([]*domain.Session, error) {
	if s.db.cannotBeID(userID) {
		return []*domain.Session{}, nil
	}
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	var rows []sessionRow
	err := s.db.NewSelect().Model(&rows).Where("user_id = ?", userID).OrderExpr("created_at DESC, id").Scan(ctx)
	if err != nil {
		return nil, mapError(err)
	}
	out := make([]*domain.Session, 0, len(rows))
	for i := range rows {
		out = append(out, rows[i].toDomain())
	}
	return out, nil
}

// DeleteByUser implements ports.SessionStore.
func (s *SessionStore) DeleteByUser(ctx context.Context, userID, except string) (int64, error) {
	if s.db.cannotBeID(userID) {
		return 0, nil
	}
	if s.db.cannotBeID(except) {
		except = "" // no session has that id, so it protects none
	}
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	q := s.db.NewDelete().TableExpr("sessions").Where("user_id = ?", userID)
	if except != "" {
		q = q.Where("id <> ?", except)
	}
	res, err := q.Exec(ctx)
	if err != nil {
		return 0, mapError(err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

var _ ports.SessionRevoker = (*SessionStore)(nil)

// DeleteByProviderSession implements ports.SessionRevoker.
func (s *SessionStore) DeleteByProviderSession(ctx context.Context, provider, providerSessionID string) (int64, error) {
	if providerSessionID == "" {
		return 0, nil
	}
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	res, err := s.db.NewDelete().TableExpr("sessions").
		Where("provider = ? AND provider_session_id = ?", provider, providerSessionID).Exec(ctx)
	if err != nil {
		return 0, mapError(err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// DeleteByProviderSubject implements ports.SessionRevoker.
func (s *SessionStore) DeleteByProviderSubject(ctx context.Context, provider, subject string) (int64, error) {
	if subject == "" {
		return 0, nil
	}
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	res, err := s.db.NewDelete().TableExpr("sessions").
		Where("user_id IN (SELECT user_id FROM accounts WHERE provider = ? AND provider_account_id = ?)", provider, subject).
		Exec(ctx)
	if err != nil {
		return 0, mapError(err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
