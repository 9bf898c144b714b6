package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
)

type verificationTokenRow struct {
	bun.BaseModel `bun:"table:verification_tokens,alias:vt"`

	Identifier string    `bun:"identifier,pk"`
	TokenHash  string    `bun:"token_hash,pk"`
	Expires    time.Time `bun:"expires,notnull"`
	CreatedAt  time.Time `bun:"created_at,notnull"`
	UpdatedAt  time.Time `bun:"updated_at,notnull"`
}

// VerificationTokenStore implements ports.VerificationTokenStore.
type VerificationTokenStore struct{ db *DB }

// NewVerificationTokenStore returns a VerificationTokenStore on db.
func NewVerificationTokenStore(db *DB) *VerificationTokenStore {
	return &VerificationTokenStore{db: db}
}

var _ ports.VerificationTokenStore = (*VerificationTokenStore)(nil)

// Save implements ports.VerificationTokenStore.
func (s *VerificationTokenStore) Save(ctx context.Context, v domain.VerificationToken) error {
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	now := time.Now().UTC()
	row := verificationTokenRow{Identifier: v.Identifier, TokenHash: string(v.TokenHash), Expires: v.Expires.UTC(), CreatedAt: now, UpdatedAt: now}
	_, err := s.db.NewInsert().Model(&row).Exec(ctx)
	return mapError(err)
}

// Consume implements ports.VerificationTokenStore. Identifier, hash and expiry
// are all part of the one DELETE ... RETURNING, so a token is used at most once
// and only by the identifier it was issued to.
func (s *VerificationTokenStore) Consume(ctx context.Context, identifier string, hash domain.TokenHash, now time.Time) (domain.VerificationToken, error) {
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	var row verificationTokenRow
	err := s.db.NewDelete().Model(&row).
		Where("identifier = ? AND token_hash = ? AND expires > ?", identifier, string(hash), now.UTC()).
		Returning("*").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.VerificationToken{}, domain.ErrVerificationTokenNotFound
	}
	if err != nil {
		return domain.VerificationToken{}, mapError(err)
	}
	return domain.VerificationToken{Identifier: row.Identifier, TokenHash: domain.TokenHash(row.TokenHash), Expires: row.Expires.UTC()}, nil
}

// DeleteExpired implements ports.VerificationTokenStore.
func (s *VerificationTokenStore) DeleteExpired(ctx context.Context, now time.Time, limit int) (int64, error) {
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	lock := ""
	if s.db.isPostgres() {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	// The key is composite, so the batch is chosen by (identifier, token_hash).
	res, err := s.db.ExecContext(ctx, `DELETE FROM verification_tokens WHERE (identifier, token_hash) IN
	(SELECT identifier, token_hash FROM verification_tokens WHERE expires <= ? ORDER BY expires LIMIT ?`+lock+`)`, now.UTC(), limit)
	if err != nil {
		return 0, mapError(err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
