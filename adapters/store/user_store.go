package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/uptrace/bun"

	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
)

type userRow struct {
	bun.BaseModel `bun:"table:users,alias:u"`

	ID            string     `bun:"id,pk"`
	Name          string     `bun:"name,notnull"`
	Email         string     `bun:"email,nullzero"`
	EmailVerified *time.Time `bun:"email_verified"`
	Image         string     `bun:"image,notnull"`
	CreatedAt     time.Time  `bun:"created_at,notnull"`
	UpdatedAt     time.Time  `bun:"updated_at,notnull"`
}

func (r *userRow) toDomain() domain.User {
	u := domain.User{ID: r.ID, Name: r.Name, Email: r.Email, Image: r.Image, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if r.EmailVerified != nil {
		t := r.EmailVerified.UTC()
		u.EmailVerified = &t
	}
	return u
}

type accountRow struct {
	bun.BaseModel `bun:"table:accounts,alias:a"`

	ID                string    `bun:"id,pk"`
	UserID            string    `bun:"user_id,notnull"`
	Type              string    `bun:"type,notnull"`
	Provider          string    `bun:"provider,notnull"`
	ProviderAccountID string    `bun:"provider_account_id,notnull"`
	CreatedAt         time.Time `bun:"created_at,notnull"`
	UpdatedAt         time.Time `bun:"updated_at,notnull"`
}

type roleRow struct {
	bun.BaseModel `bun:"table:roles,alias:r"`

	ID        int64     `bun:"id,pk,autoincrement"`
	Name      string    `bun:"name,notnull"`
	Source    string    `bun:"source,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
	UpdatedAt time.Time `bun:"updated_at,notnull"`
}

type userRoleRow struct {
	bun.BaseModel `bun:"table:user_roles"`

	UserID    string    `bun:"user_id,pk"`
	RoleID    int64     `bun:"role_id,pk"`
	SyncedAt  time.Time `bun:"synced_at,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
	UpdatedAt time.Time `bun:"updated_at,notnull"`
}

type organizationRow struct {
	bun.BaseModel `bun:"table:organizations,alias:o"`

	ID    string `bun:"id,pk"`
	Alias string `bun:"alias,notnull"`
	// ExternalID is the IdP's organization id, NULL while unknown.
	ExternalID string    `bun:"external_id,nullzero"`
	Name       string    `bun:"name,notnull"`
	TenantID   string    `bun:"tenant_id,notnull"`
	CreatedAt  time.Time `bun:"created_at,notnull"`
	UpdatedAt  time.Time `bun:"updated_at,notnull"`
}

type userOrganizationRow struct {
	bun.BaseModel `bun:"table:user_organizations"`

	UserID         string    `bun:"user_id,pk"`
	OrganizationID string    `bun:"organization_id,pk"`
	JoinedAt       time.Time `bun:"joined_at,notnull"`
	SyncedAt       time.Time `bun:"synced_at,notnull"`
	CreatedAt      time.Time `bun:"created_at,notnull"`
	UpdatedAt      time.Time `bun:"updated_at,notnull"`
}

// UserStore implements ports.UserStore.
type UserStore struct{ db *DB }

// NewUserStore returns a UserStore on db.
func NewUserStore(db *DB) *UserStore { return &UserStore{db: db} }

var _ ports.UserStore = (*UserStore)(nil)

// SyncIdentity implements ports.UserStore. The identity rules (validation,
// merging with the stored user and organizations) are the domain's; this
// only persists their result, in one transaction: a half-synced user
// (profile updated, roles not) is never seen.
func (s *UserStore) SyncIdentity(ctx context.Context, in ports.IdentitySync) (domain.User, error) {
	id := in.Identity()
	if err := id.Validate(); err != nil {
		return domain.User{}, err
	}
	now := in.Now.UTC()
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	var user domain.User
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		stored, err := linkedUser(ctx, tx, in.Provider, in.Subject)
		if err != nil {
			return err
		}
		if user, err = id.MergeInto(stored, now); err != nil {
			return errFromCallback{err}
		}
		// Organizations first, locked in alias order, before any user row:
		// a change to an organization clears its members' snapshots (a
		// trigger updates their rows), so locking users before
		// organizations would deadlock two members signing in at once.
		orgIDs, err := s.upsertOrganizations(ctx, tx, id.DistinctOrganizations(), now)
		if err != nil {
			return err
		}
		row := userRowOf(user)
		if stored == nil {
			if err := insertUserWithAccount(ctx, tx, &row, in.Provider, in.Subject, now); err != nil {
				return err
			}
		} else if _, err := tx.NewUpdate().Model(&row).WherePK().Exec(ctx); err != nil {
			return err
		}
		if err := syncRoles(ctx, tx, user.ID, id.DistinctRoles(), now); err != nil {
			return err
		}
		if err := linkOrganizations(ctx, tx, user.ID, orgIDs, now); err != nil {
			return err
		}
		return s.db.writeSessionView(ctx, tx, user.ID)
	})
	if err == nil {
		s.db.userChanged(user.ID)
	}
	var cb errFromCallback
	if errors.As(err, &cb) {
		return domain.User{}, cb.err
	}
	if err != nil {
		return domain.User{}, fmt.Errorf("sync identity: %w", mapError(err))
	}
	return user, nil
}

// linkedUser returns the user linked to (provider, subject), or nil.
func linkedUser(ctx context.Context, tx bun.Tx, provider, subject string) (*domain.User, error) {
	var acc accountRow
	err := tx.NewSelect().Model(&acc).Where("provider = ? AND provider_account_id = ?", provider, subject).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var row userRow
	if err := tx.NewSelect().Model(&row).Where("id = ?", acc.UserID).Scan(ctx); err != nil {
		return nil, err
	}
	u := row.toDomain()
	return &u, nil
}

// insertUserWithAccount stores a new user and its link to the IdP account.
func insertUserWithAccount(ctx context.Context, tx bun.Tx, row *userRow, provider, subject string, now time.Time) error {
	if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
		return err
	}
	acc := accountRow{ID: domain.NewID(), UserID: row.ID, Type: "oidc", Provider: provider,
		ProviderAccountID: subject, CreatedAt: now, UpdatedAt: now}
	_, err := tx.NewInsert().Model(&acc).Exec(ctx)
	return err
}

func userRowOf(u domain.User) userRow {
	return userRow{ID: u.ID, Name: u.Name, Email: u.Email, EmailVerified: u.EmailVerified, Image: u.Image,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

// syncRoles makes the user's roles exactly roles (distinct and sorted, so
// concurrent syncs lock role rows in one order): upserts the role names,
// refreshes synced_at on the ones kept, inserts new links and removes the rest.
func syncRoles(ctx context.Context, tx bun.Tx, userID string, roles []domain.Role, now time.Time) error {
	ids := make([]int64, 0, len(roles))
	for _, r := range roles {
		row := roleRow{Name: r.Name, Source: r.Source, CreatedAt: now, UpdatedAt: now}
		if _, err := tx.NewInsert().Model(&row).On("CONFLICT (name, source) DO NOTHING").Exec(ctx); err != nil {
			return err
		}
		var id int64
		if err := tx.NewSelect().Model((*roleRow)(nil)).Column("id").Where("name = ? AND source = ?", r.Name, r.Source).Scan(ctx, &id); err != nil {
			return err
		}
		ids = append(ids, id)
		link := userRoleRow{UserID: userID, RoleID: id, SyncedAt: now, CreatedAt: now, UpdatedAt: now}
		if _, err := tx.NewInsert().Model(&link).On("CONFLICT (user_id, role_id) DO UPDATE").
			Set("synced_at = EXCLUDED.synced_at").Set("updated_at = EXCLUDED.updated_at").Exec(ctx); err != nil {
			return err
		}
	}
	q := tx.NewDelete().Model((*userRoleRow)(nil)).Where("user_id = ?", userID)
	if len(ids) > 0 {
		q = q.Where("role_id NOT IN (?)", bun.List(ids))
	}
	_, err := q.Exec(ctx)
	return err
}

// upsertOrganizations stores orgs (distinct and sorted by alias, so
// concurrent syncs lock organization rows in one order) and returns their
// stored ids. Organizations are matched by alias; a new one keeps the id it
// came with, else gets a stable id of ours; a known one is updated as
// domain.Organization.Merge says.
func (s *UserStore) upsertOrganizations(ctx context.Context, tx bun.Tx, orgs []domain.Organization, now time.Time) ([]string, error) {
	ids := make([]string, 0, len(orgs))
	for _, o := range orgs {
		stored, err := s.upsertOrganization(ctx, tx, o, now)
		if err != nil {
			return nil, err
		}
		ids = append(ids, stored.ID)
	}
	return ids, nil
}

// linkOrganizations makes the user's memberships exactly the organizations
// with these ids.
func linkOrganizations(ctx context.Context, tx bun.Tx, userID string, ids []string, now time.Time) error {
	for _, id := range ids {
		link := userOrganizationRow{UserID: userID, OrganizationID: id, JoinedAt: now, SyncedAt: now, CreatedAt: now, UpdatedAt: now}
		if _, err := tx.NewInsert().Model(&link).On("CONFLICT (user_id, organization_id) DO UPDATE").
			Set("synced_at = EXCLUDED.synced_at").Set("updated_at = EXCLUDED.updated_at").Exec(ctx); err != nil {
			return err
		}
	}
	q := tx.NewDelete().Model((*userOrganizationRow)(nil)).Where("user_id = ?", userID)
	if len(ids) > 0 {
		q = q.Where("organization_id NOT IN (?)", bun.List(ids))
	}
	_, err := q.Exec(ctx)
	return err
}

// upsertOrganization inserts the organization if its alias is new, then
// reads the stored row, locked (PostgreSQL; SQLite's writer already holds
// the database), merges the claim into it and writes the result back.
func (s *UserStore) upsertOrganization(ctx context.Context, tx bun.Tx, claim domain.Organization, now time.Time) (organizationRow, error) {
	id := claim.ID
	if id == "" {
		id = domain.NewID()
	}
	row := organizationRow{ID: id, Alias: claim.Alias, ExternalID: claim.ExternalID, Name: claim.Name, TenantID: claim.TenantID,
		CreatedAt: now, UpdatedAt: now}
	if _, err := tx.NewInsert().Model(&row).On("CONFLICT (alias) DO NOTHING").Exec(ctx); err != nil {
		return row, err
	}
	q := tx.NewSelect().Model(&row).Where("alias = ?", claim.Alias)
	if s.db.isPostgres() {
		q = q.For("UPDATE")
	}
	if err := q.Scan(ctx); err != nil {
		return row, err
	}
	stored := domain.Organization{ID: row.ID, ExternalID: row.ExternalID, Alias: row.Alias, Name: row.Name, TenantID: row.TenantID}
	merged := stored.Merge(claim)
	row.Name, row.TenantID, row.ExternalID, row.UpdatedAt = merged.Name, merged.TenantID, merged.ExternalID, now
	_, err := tx.NewUpdate().Model(&row).Column("name", "tenant_id", "external_id", "updated_at").WherePK().Exec(ctx)
	return row, err
}

// sortRoles orders roles as the port promises, whatever the database's collation.
func sortRoles(roles []domain.Role) { domain.SortRoles(roles) }

// User implements ports.UserStore.
func (s *UserStore) User(ctx context.Context, id string) (domain.User, error) {
	if s.db.cannotBeID(id) {
		return domain.User{}, domain.ErrUserNotFound
	}
	return s.oneUser(ctx, "id = ?", id)
}

// UserByEmail implements ports.UserStore.
func (s *UserStore) UserByEmail(ctx context.Context, email string) (domain.User, error) {
	return s.oneUser(ctx, "email = ?", domain.NormalizeEmail(email))
}

func (s *UserStore) oneUser(ctx context.Context, where string, arg any) (domain.User, error) {
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	var row userRow
	err := s.db.NewSelect().Model(&row).Where(where, arg).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.User{}, domain.ErrUserNotFound
	}
	if err != nil {
		return domain.User{}, mapError(err)
	}
	return row.toDomain(), nil
}

// Roles implements ports.UserStore.
func (s *UserStore) Roles(ctx context.Context, userID string) ([]domain.Role, error) {
	if s.db.cannotBeID(userID) {
		return []domain.Role{}, nil
	}
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	var rows []roleRow
	err := s.db.NewSelect().Model(&rows).
		Join("JOIN user_roles AS ur ON ur.role_id = r.id").Where("ur.user_id = ?", userID).
		OrderExpr("r.source, r.name").Scan(ctx)
	if err != nil {
		return nil, mapError(err)
	}
	out := make([]domain.Role, 0, len(rows))
	for _, r := range rows {
		out = append(out, domain.Role{Name: r.Name, Source: r.Source})
	}
	sortRoles(out) // ORDER BY follows the database's collation, not byte order
	return out, nil
}

// Organizations implements ports.UserStore.
func (s *UserStore) Organizations(ctx context.Context, userID string) ([]domain.Organization, error) {
	if s.db.cannotBeID(userID) {
		return []domain.Organization{}, nil
	}
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	var rows []organizationRow
	err := s.db.NewSelect().Model(&rows).
		Join("JOIN user_organizations AS uo ON uo.organization_id = o.id").Where("uo.user_id = ?", userID).
		OrderExpr("o.alias").Scan(ctx)
	if err != nil {
		return nil, mapError(err)
	}
	out := make([]domain.Organization, 0, len(rows))
	for _, r := range rows {
		out = append(out, domain.Organization{ID: r.ID, ExternalID: r.ExternalID, Alias: r.Alias, Name: r.Name, TenantID: r.TenantID})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Alias < out[j].Alias })
	return out, nil
}

// CountUsers implements ports.UserStore.
func (s *UserStore) CountUsers(ctx context.Context) (int64, error) {
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	n, err := s.db.NewSelect().Model((*userRow)(nil)).Count(ctx)
	if err != nil {
		return 0, mapError(err)
	}
	return int64(n), nil
}
