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

// SyncIdentity implements ports.UserStore. Everything happens in one
// transaction: a half-synced user (profile updated, roles not) is never seen.
func (s *UserStore) SyncIdentity(ctx context.Context, in ports.IdentitySync) (domain.User, error) {
	if in.Provider == "" || in.Subject == "" {
		return domain.User{}, &domain.ValidationError{Field: "Subject", Reason: "provider and subject are required"}
	}
	for _, r := range in.Roles {
		if err := r.Validate(); err != nil {
			return domain.User{}, err
		}
	}
	for _, o := range in.Organizations {
		if err := o.Validate(); err != nil {
			return domain.User{}, err
		}
	}
	now := in.Now.UTC()
	email := domain.NormalizeEmail(in.Email)
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	var user userRow
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var acc accountRow
		err := tx.NewSelect().Model(&acc).Where("provider = ? AND provider_account_id = ?", in.Provider, in.Subject).Scan(ctx)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			user = userRow{ID: domain.NewID(), CreatedAt: now}
		case err != nil:
			return err
		default:
			if err := tx.NewSelect().Model(&user).Where("id = ?", acc.UserID).Scan(ctx); err != nil {
				return err
			}
		}
		user.Name, user.Email, user.Image, user.UpdatedAt = in.Name, email, in.Image, now
		if in.EmailVerified && user.EmailVerified == nil {
			user.EmailVerified = &now
		} else if !in.EmailVerified {
			user.EmailVerified = nil
		}
		if err := (domain.User{ID: user.ID, Email: user.Email}).Validate(); err != nil {
			return errFromCallback{err}
		}
		if acc.ID == "" {
			if _, err := tx.NewInsert().Model(&user).Exec(ctx); err != nil {
				return err
			}
			acc = accountRow{ID: domain.NewID(), UserID: user.ID, Type: "oidc", Provider: in.Provider,
				ProviderAccountID: in.Subject, CreatedAt: now, UpdatedAt: now}
			if _, err := tx.NewInsert().Model(&acc).Exec(ctx); err != nil {
				return err
			}
		} else if _, err := tx.NewUpdate().Model(&user).WherePK().Exec(ctx); err != nil {
			return err
		}
		if err := syncRoles(ctx, tx, user.ID, in.Roles, now); err != nil {
			return err
		}
		if err := syncOrganizations(ctx, tx, user.ID, in.Organizations, now); err != nil {
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
	return user.toDomain(), nil
}

// syncRoles makes the user's roles exactly roles: upserts the role names,
// refreshes synced_at on the ones kept, inserts new links and removes the rest.
func syncRoles(ctx context.Context, tx bun.Tx, userID string, roles []domain.Role, now time.Time) error {
	ids := make([]int64, 0, len(roles))
	for _, r := range dedupeRoles(roles) {
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

// syncOrganizations makes the user's memberships exactly orgs. Organizations
// are matched by alias; a new one is stored under o.ID if set, else under a
// stable id of ours. The IdP's id (external_id) is replaced when the IdP
// tells one and kept when a sync does not know it (a lookup that failed).
func syncOrganizations(ctx context.Context, tx bun.Tx, userID string, orgs []domain.Organization, now time.Time) error {
	ids := make([]string, 0, len(orgs))
	for _, o := range dedupeOrganizations(orgs) {
		id := o.ID
		if id == "" {
			id = domain.NewID()
		}
		row := organizationRow{ID: id, Alias: o.Alias, ExternalID: o.ExternalID, Name: o.Name, TenantID: o.TenantID, CreatedAt: now, UpdatedAt: now}
		if _, err := tx.NewInsert().Model(&row).On("CONFLICT (alias) DO UPDATE").
			Set("external_id = coalesce(EXCLUDED.external_id, o.external_id)").
			Set("name = CASE WHEN EXCLUDED.name <> '' THEN EXCLUDED.name ELSE o.name END").
			Set("tenant_id = CASE WHEN EXCLUDED.tenant_id <> '' THEN EXCLUDED.tenant_id ELSE o.tenant_id END").
			Set("updated_at = EXCLUDED.updated_at").Exec(ctx); err != nil {
			return err
		}
		if err := tx.NewSelect().Model((*organizationRow)(nil)).Column("id").Where("alias = ?", o.Alias).Scan(ctx, &id); err != nil {
			return err
		}
		ids = append(ids, id)
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

// dedupeRoles also sorts, so concurrent syncs lock role rows in one order
// and cannot deadlock.
func dedupeRoles(in []domain.Role) []domain.Role {
	seen := map[domain.Role]bool{}
	out := make([]domain.Role, 0, len(in))
	for _, r := range in {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	sortRoles(out)
	return out
}

// sortRoles orders roles by source, then name, in byte order whatever the
// database's collation.
func sortRoles(roles []domain.Role) {
	sort.Slice(roles, func(i, j int) bool {
		if roles[i].Source != roles[j].Source {
			return roles[i].Source < roles[j].Source
		}
		return roles[i].Name < roles[j].Name
	})
}

// dedupeOrganizations also sorts, so concurrent syncs lock organization rows
// in one order and cannot deadlock.
func dedupeOrganizations(in []domain.Organization) []domain.Organization {
	seen := map[string]bool{}
	out := make([]domain.Organization, 0, len(in))
	for _, o := range in {
		if !seen[o.Alias] {
			seen[o.Alias] = true
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Alias < out[j].Alias })
	return out
}

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
