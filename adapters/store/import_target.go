package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"

	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
)

// ImportTarget implements ports.ImportTarget: bulk, idempotent inserts for
// `authbff import nextauth`. Each method is one transaction; every insert is
// ON CONFLICT DO NOTHING, so rows an earlier (possibly interrupted) run wrote
// are kept as they are and not counted again.
type ImportTarget struct{ db *DB }

// NewImportTarget returns an ImportTarget on db.
func NewImportTarget(db *DB) *ImportTarget { return &ImportTarget{db: db} }

var _ ports.ImportTarget = (*ImportTarget)(nil)

// Existing implements ports.ImportTarget.
func (t *ImportTarget) Existing(ctx context.Context) (ports.ImportCounts, error) {
	ctx, cancel := t.db.bound(ctx)
	defer cancel()
	var c ports.ImportCounts
	users, err := t.db.NewSelect().Model((*userRow)(nil)).Count(ctx)
	if err != nil {
		return c, fmt.Errorf("count users: %w", mapError(err))
	}
	sessions, err := t.db.NewSelect().Model((*sessionRow)(nil)).Count(ctx)
	if err != nil {
		return c, fmt.Errorf("count sessions: %w", mapError(err))
	}
	c.Users, c.Sessions = int64(users), int64(sessions)
	return c, nil
}

// ImportUsers implements ports.ImportTarget.
func (t *ImportTarget) ImportUsers(ctx context.Context, users []ports.ImportUser) (map[string]ports.ImportedUser, ports.ImportCounts, error) {
	var counts ports.ImportCounts
	landed := make(map[string]ports.ImportedUser, len(users))
	if len(users) == 0 {
		return landed, counts, nil
	}
	now := time.Now().UTC()
	ctx, cancel := t.db.bound(ctx)
	defer cancel()
	err := t.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		clear(landed)
		counts = ports.ImportCounts{}
		ids, err := resolveUsers(ctx, tx, users)
		if err != nil {
			return err
		}
		var userRows []userRow
		var accRows []accountRow
		seenUser := map[string]bool{}
		for i, u := range users {
			id := ids[i]
			if !seenUser[id] {
				seenUser[id] = true
				userRows = append(userRows, userRow{ID: id, Name: u.User.Name, Email: u.User.Email, EmailVerified: u.User.EmailVerified,
					Image: u.User.Image, CreatedAt: now, UpdatedAt: now})
			}
			for _, a := range u.Accounts {
				accRows = append(accRows, accountRow{ID: a.ID, UserID: id, Type: a.Type, Provider: a.Provider,
					ProviderAccountID: a.ProviderAccountID, CreatedAt: now, UpdatedAt: now})
			}
		}
		if counts.Users, err = insertIgnore(ctx, tx, &userRows); err != nil {
			return fmt.Errorf("users: %w", err)
		}
		if len(accRows) > 0 {
			if counts.Accounts, err = insertIgnore(ctx, tx, &accRows); err != nil {
				return fmt.Errorf("accounts: %w", err)
			}
		}
		if counts.Roles, err = importRoles(ctx, tx, users, ids, now); err != nil {
			return fmt.Errorf("roles: %w", err)
		}
		orgIDs, newOrgs, err := importOrganizations(ctx, tx, users, now)
		if err != nil {
			return fmt.Errorf("organizations: %w", err)
		}
		counts.Organizations = newOrgs
		var links []userOrganizationRow
		for i, u := range users {
			first := ""
			for _, o := range u.Organizations {
				id := orgIDs[o.Alias]
				if id == "" {
					id = orgIDs["\x00"+o.ID]
				}
				if id == "" {
					continue
				}
				if first == "" {
					first = id
				}
				links = append(links, userOrganizationRow{UserID: ids[i], OrganizationID: id, JoinedAt: now, SyncedAt: now, CreatedAt: now, UpdatedAt: now})
			}
			landed[u.SourceID] = ports.ImportedUser{ID: ids[i], FirstOrganizationID: first}
		}
		if len(links) > 0 {
			if counts.Memberships, err = insertIgnore(ctx, tx, &links); err != nil {
				return fmt.Errorf("user_organizations: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, ports.ImportCounts{}, fmt.Errorf("import users: %w", mapError(err))
	}
	return landed, counts, nil
}

// resolveUsers decides each user's id in the target: the user an account
// (provider, provider account id) already links to, else the user with the
// same email, else the id the import chose. That is what lets a --merge run
// after users have already signed in through authbff join them up instead of
// colliding on the unique email.
func resolveUsers(ctx context.Context, tx bun.Tx, users []ports.ImportUser) ([]string, error) {
	var pids, emails []string
	for _, u := range users {
		for _, a := range u.Accounts {
			pids = append(pids, a.ProviderAccountID)
		}
		if u.User.Email != "" {
			emails = append(emails, u.User.Email)
		}
	}
	byAccount := map[string]string{}
	if len(pids) > 0 {
		var rows []accountRow
		if err := tx.NewSelect().Model(&rows).Column("provider", "provider_account_id", "user_id").
			Where("provider_account_id IN (?)", bun.List(pids)).Scan(ctx); err != nil {
			return nil, fmt.Errorf("accounts: %w", err)
		}
		for _, r := range rows {
			byAccount[r.Provider+"\x00"+r.ProviderAccountID] = r.UserID
		}
	}
	byEmail := map[string]string{}
	if len(emails) > 0 {
		var rows []userRow
		if err := tx.NewSelect().Model(&rows).Column("id", "email").Where("email IN (?)", bun.List(emails)).Scan(ctx); err != nil {
			return nil, fmt.Errorf("users: %w", err)
		}
		for _, r := range rows {
			byEmail[r.Email] = r.ID
		}
	}
	ids := make([]string, len(users))
	for i, u := range users {
		for _, a := range u.Accounts {
			if id := byAccount[a.Provider+"\x00"+a.ProviderAccountID]; id != "" {
				ids[i] = id
				break
			}
		}
		if ids[i] == "" && u.User.Email != "" {
			ids[i] = byEmail[u.User.Email]
		}
		if ids[i] == "" {
			ids[i] = u.User.ID
		}
		if u.User.Email != "" {
			if _, ok := byEmail[u.User.Email]; !ok {
				byEmail[u.User.Email] = ids[i] // a later user of this batch with the same email is this one
			}
		}
	}
	return ids, nil
}

func importRoles(ctx context.Context, tx bun.Tx, users []ports.ImportUser, ids []string, now time.Time) (int64, error) {
	var roles []domain.Role
	for _, u := range users {
		roles = append(roles, u.Roles...)
	}
	roles = domain.Identity{Roles: roles}.DistinctRoles()
	if len(roles) == 0 {
		return 0, nil
	}
	rows := make([]roleRow, len(roles))
	names := make([]string, len(roles))
	for i, r := range roles {
		rows[i] = roleRow{Name: r.Name, Source: r.Source, CreatedAt: now, UpdatedAt: now}
		names[i] = r.Name
	}
	if _, err := insertIgnore(ctx, tx, &rows); err != nil {
		return 0, err
	}
	var stored []roleRow
	if err := tx.NewSelect().Model(&stored).Column("id", "name", "source").Where("name IN (?)", bun.List(names)).Scan(ctx); err != nil {
		return 0, err
	}
	roleID := map[domain.Role]int64{}
	for _, r := range stored {
		roleID[domain.Role{Name: r.Name, Source: r.Source}] = r.ID
	}
	var links []userRoleRow
	seen := map[userRoleRow]bool{}
	for i, u := range users {
		for _, r := range u.Roles {
			link := userRoleRow{UserID: ids[i], RoleID: roleID[r], SyncedAt: now, CreatedAt: now, UpdatedAt: now}
			if link.RoleID == 0 || seen[link] {
				continue
			}
			seen[link] = true
			links = append(links, link)
		}
	}
	if len(links) == 0 {
		return 0, nil
	}
	return insertIgnore(ctx, tx, &links)
}

// importOrganizations inserts the organizations not known yet and returns
// the stored id by alias (and by "\x00"+id for an organization whose alias
// changed), with the number inserted. Like sign-in, it matches by alias.
func importOrganizations(ctx context.Context, tx bun.Tx, users []ports.ImportUser, now time.Time) (map[string]string, int64, error) {
	var orgs []domain.Organization
	for _, u := range users {
		orgs = append(orgs, u.Organizations...)
	}
	orgs = domain.Identity{Organizations: orgs}.DistinctOrganizations()
	out := map[string]string{}
	if len(orgs) == 0 {
		return out, 0, nil
	}
	rows := make([]organizationRow, len(orgs))
	aliases := make([]string, len(orgs))
	ids := make([]string, len(orgs))
	for i, o := range orgs {
		rows[i] = organizationRow{ID: o.ID, Alias: o.Alias, Name: o.Name, TenantID: o.TenantID, ExternalID: o.ExternalID,
			CreatedAt: now, UpdatedAt: now}
		aliases[i], ids[i] = o.Alias, o.ID
	}
	n, err := insertIgnore(ctx, tx, &rows)
	if err != nil {
		return nil, 0, err
	}
	var stored []organizationRow
	if err := tx.NewSelect().Model(&stored).Column("id", "alias").
		Where("alias IN (?) OR id IN (?)", bun.List(aliases), bun.List(ids)).Scan(ctx); err != nil {
		return nil, 0, err
	}
	for _, r := range stored {
		out[r.Alias] = r.ID
		out["\x00"+r.ID] = r.ID
	}
	return out, n, nil
}

// ImportSessions implements ports.ImportTarget.
func (t *ImportTarget) ImportSessions(ctx context.Context, sessions []*domain.Session) (int64, error) {
	if len(sessions) == 0 {
		return 0, nil
	}
	rows := make([]sessionRow, len(sessions))
	for i, s := range sessions {
		rows[i] = *sessionFromDomain(s)
	}
	ctx, cancel := t.db.bound(ctx)
	defer cancel()
	var n int64
	var err error
	if t.db.isPostgres() {
		n, err = t.copySessions(ctx, rows)
	} else {
		err = t.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			fresh, err := notImportedBefore(ctx, tx, rows)
			if err != nil || len(fresh) == 0 {
				return err
			}
			if n, err = insertIgnore(ctx, tx, &fresh); err != nil {
				return err
			}
			return rememberImported(ctx, tx, fresh)
		})
	}
	if err != nil {
		return 0, fmt.Errorf("import sessions: %w", mapError(err))
	}
	return n, nil
}

// notImportedBefore drops the rows whose token an earlier import already
// brought over (SQLite; copySessions does the same on PostgreSQL).
func notImportedBefore(ctx context.Context, tx bun.Tx, rows []sessionRow) ([]sessionRow, error) {
	hashes := make([]string, len(rows))
	for i := range rows {
		hashes[i] = rows[i].TokenHash
	}
	var seen []string
	if err := tx.NewRaw("SELECT token_hash FROM imported_sessions WHERE token_hash IN (?)", bun.List(hashes)).Scan(ctx, &seen); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	skip := make(map[string]bool, len(seen))
	for _, h := range seen {
		skip[h] = true
	}
	fresh := make([]sessionRow, 0, len(rows))
	for _, r := range rows {
		if !skip[r.TokenHash] {
			fresh = append(fresh, r)
		}
	}
	return fresh, nil
}

// rememberImported records the imported token hashes, so no later import
// brings back a session that was ended meanwhile.
func rememberImported(ctx context.Context, tx bun.Tx, rows []sessionRow) error {
	values := make([]importedSessionRow, len(rows))
	for i := range rows {
		values[i] = importedSessionRow{TokenHash: rows[i].TokenHash, ImportedAt: rows[i].CreatedAt}
	}
	_, err := tx.NewInsert().Model(&values).On("CONFLICT DO NOTHING").Exec(ctx)
	return err
}

// importedSessionRow is a row of imported_sessions.
type importedSessionRow struct {
	bun.BaseModel `bun:"table:imported_sessions"`

	TokenHash  string    `bun:"token_hash,pk"`
	ImportedAt time.Time `bun:"imported_at,notnull"`
}

// insertIgnore is a multi-row INSERT … ON CONFLICT DO NOTHING that returns
// how many rows it inserted.
func insertIgnore(ctx context.Context, tx bun.Tx, rows any) (int64, error) {
	res, err := tx.NewInsert().Model(rows).On("CONFLICT DO NOTHING").Returning("NULL").Exec(ctx)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// importSessionColumns are the sessions columns copySessions writes, in
// copy order.
var importSessionColumns = []string{"id", "token_hash", "user_id", "expires", "absolute_expires", "active_organization_id",
	"provider", "provider_session_id", "access_token", "refresh_token", "id_token", "access_token_expires_at",
	"refresh_token_expires_at", "scope", "ip_address", "user_agent", "last_seen_at", "created_at", "updated_at"}

// copySessions is ImportSessions on PostgreSQL: in one transaction, find
// which token hashes are already stored, then COPY (binary) the others
// straight into sessions. bun writes values into the SQL text, and a batch of
// sessions carrying sealed Keycloak tokens (~3 KB each) is megabytes of hex
// literals for the server to parse; COPY sends the bytes as they are. Two
// imports running at once could both miss a hash and the later COPY then
// fails on the unique index: its batch is rolled back whole and a rerun
// completes it.
func (t *ImportTarget) copySessions(ctx context.Context, rows []sessionRow) (int64, error) {
	conn, err := t.db.DB.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	var n int64
	err = conn.Raw(func(driverConn any) error {
		sc, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("unexpected driver connection %T", driverConn)
		}
		tx, err := sc.Conn().Begin(ctx)
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
		hashes := make([]string, len(rows))
		for i := range rows {
			hashes[i] = rows[i].TokenHash
		}
		// Stored now, or imported once and ended since: either way not again.
		existing, err := tx.Query(ctx, `SELECT token_hash FROM sessions WHERE token_hash = ANY($1)
			UNION SELECT token_hash FROM imported_sessions WHERE token_hash = ANY($1)`, hashes)
		if err != nil {
			return err
		}
		stored := map[string]bool{}
		for existing.Next() {
			var h string
			if err := existing.Scan(&h); err != nil {
				existing.Close()
				return err
			}
			stored[h] = true
		}
		existing.Close()
		if err := existing.Err(); err != nil {
			return err
		}
		fresh := make([][]any, 0, len(rows))
		for i := range rows {
			r := &rows[i]
			if stored[r.TokenHash] {
				continue
			}
			stored[r.TokenHash] = true // the same token twice in one batch is one session
			fresh = append(fresh, []any{r.ID, r.TokenHash, r.UserID, r.Expires, r.AbsoluteExpires, nullText(r.ActiveOrganizationID),
				r.Provider, nullText(r.ProviderSessionID), r.AccessToken, r.RefreshToken, r.IDToken,
				nullTime(r.AccessTokenExpiresAt), nullTime(r.RefreshTokenExpiresAt), r.Scope, r.IPAddress, r.UserAgent,
				r.LastSeenAt, r.CreatedAt, r.UpdatedAt})
		}
		if len(fresh) > 0 {
			if n, err = tx.CopyFrom(ctx, pgx.Identifier{"sessions"}, importSessionColumns, pgx.CopyFromRows(fresh)); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO imported_sessions (token_hash)
				SELECT unnest($1::text[]) ON CONFLICT DO NOTHING`, hashes); err != nil {
				return err
			}
		}
		return tx.Commit(ctx)
	})
	return n, err
}

func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}
