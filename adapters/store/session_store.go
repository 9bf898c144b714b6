package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

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
	// The refresh lease is read, never written through the model: only the
	// lease statements change it, so Create and Update leave it alone.
	RefreshLeaseOwner   string    `bun:"refresh_lease_owner,scanonly"`
	RefreshLeaseExpires time.Time `bun:"refresh_lease_expires,scanonly"`
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
type SessionStore struct {
	db *DB
	// lookupViewSQL and userViewSQL are the session view read's statement
	// texts, built once (PostgreSQL prepares each once per connection).
	lookupViewSQL, userViewSQL string
}

// NewSessionStore returns a SessionStore on db.
func NewSessionStore(db *DB) *SessionStore {
	s := &SessionStore{db: db}
	param := "?"
	if db.isPostgres() {
		param = "$1"
	}
	s.lookupViewSQL = lookupSQL(param, false)
	s.userViewSQL = `SELECT name, coalesce(email, ''), image, roles_view, orgs_view FROM users WHERE id = ` + param
	return s
}

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
	RolesJSON         *string    `bun:"roles_json"` // nil: the snapshot is clear
	OrgsJSON          *string    `bun:"orgs_json"`
}

func decodeRoles(js string) ([]domain.Role, error) {
	var raw [][2]string
	if err := json.Unmarshal([]byte(js), &raw); err != nil {
		return nil, fmt.Errorf("decode roles: %w", err)
	}
	return rolesOf(raw), nil
}

// rolesOf turns the snapshot's [name, source] pairs into roles.
func rolesOf(raw [][2]string) []domain.Role {
	roles := make([]domain.Role, 0, len(raw))
	for _, r := range raw {
		roles = append(roles, domain.Role{Name: r[0], Source: r[1]})
	}
	sortRoles(roles) // SQLite's json_group_array and collations do not promise byte order
	return roles
}

func decodeOrganizations(js string) ([]domain.Organization, error) {
	var raw [][5]string
	if err := json.Unmarshal([]byte(js), &raw); err != nil {
		return nil, fmt.Errorf("decode organizations: %w", err)
	}
	return organizationsOf(raw), nil
}

// organizationsOf turns the snapshot's [id, alias, name, tenant id,
// external id] tuples into organizations.
func organizationsOf(raw [][5]string) []domain.Organization {
	orgs := make([]domain.Organization, 0, len(raw))
	for _, o := range raw {
		orgs = append(orgs, domain.Organization{ID: o[0], Alias: o[1], Name: o[2], TenantID: o[3], ExternalID: o[4]})
	}
	sort.Slice(orgs, func(i, j int) bool { return orgs[i].Alias < orgs[j].Alias })
	return orgs
}

// Update implements ports.SessionStore. On PostgreSQL the row is locked with
// SELECT ... FOR UPDATE (waiting at most the pool timeout, via lock_timeout);
// on SQLite the IMMEDIATE transaction already holds the database's write
// lock.
//
// fn must not call the network: the row stays locked while it runs. The
// transaction is not bound by the caller's cancellation: a rotated refresh
// token stored through UpdateUnderLease must be written, or the next
// refresh would present a dead one and the IdP would end the session. So
// the transaction gets the caller's remaining time plus the pool timeout,
// detached from cancellation.
func (s *SessionStore) Update(ctx context.Context, id string, fn func(*domain.Session) error) error {
	return s.update(ctx, id, "", fn)
}

// update is Update, and UpdateUnderLease when leaseOwner is set: then the
// locked row must still carry that lease, and the write frees it.
func (s *SessionStore) update(ctx context.Context, id, leaseOwner string, fn func(*domain.Session) error) error {
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
		q := tx.NewSelect().Model(row).ColumnExpr("s.*").Where("id = ?", id)
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
		if leaseOwner != "" && row.RefreshLeaseOwner != leaseOwner {
			return errFromCallback{ports.ErrRefreshLeaseLost}
		}
		sess := row.toDomain()
		if err := fn(sess); err != nil {
			return errFromCallback{err}
		}
		if _, err := tx.NewUpdate().Model(sessionFromDomain(sess)).WherePK().Exec(txCtx); err != nil || leaseOwner == "" {
			return err
		}
		_, err := tx.ExecContext(txCtx, releaseLeaseSQL, id, leaseOwner)
		return err
	})
	if err == nil {
		s.db.sessionChanged(id)
	}
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
	s.db.sessionChanged(id)
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
	s.db.userChanged(userID)
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
	var ids []string
	err := s.db.NewDelete().TableExpr("sessions").
		Where("provider = ? AND provider_session_id = ?", provider, providerSessionID).Returning("id").Scan(ctx, &ids)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, mapError(err)
	}
	for _, id := range ids {
		s.db.sessionChanged(id)
	}
	return int64(len(ids)), nil
}

// DeleteByProviderSubject implements ports.SessionRevoker.
func (s *SessionStore) DeleteByProviderSubject(ctx context.Context, provider, subject string) (int64, error) {
	if subject == "" {
		return 0, nil
	}
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	var ids []string
	err := s.db.NewDelete().TableExpr("sessions").
		Where("user_id IN (SELECT user_id FROM accounts WHERE provider = ? AND provider_account_id = ?)", provider, subject).
		Returning("id").Scan(ctx, &ids)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, mapError(err)
	}
	for _, id := range ids {
		s.db.sessionChanged(id)
	}
	return int64(len(ids)), nil
}
