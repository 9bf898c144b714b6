package ports

import (
	"context"
	"time"

	"github.com/authbff/authbff/domain"
)

// VerificationTokenStore keeps one-time verification tokens (Auth.js's
// verification_tokens, used by email sign-in). Only token hashes are stored.
type VerificationTokenStore interface {
	// Save stores a token. It returns domain.ErrConflict if the same
	// (identifier, hash) pair exists.
	Save(ctx context.Context, v domain.VerificationToken) error
	// Consume atomically removes and returns the token that matches both
	// identifier and hash and is unexpired at now. Every other case returns
	// domain.ErrVerificationTokenNotFound.
	Consume(ctx context.Context, identifier string, hash domain.TokenHash, now time.Time) (domain.VerificationToken, error)
	// DeleteExpired removes at most limit tokens expired at now and returns
	// how many it removed.
	DeleteExpired(ctx context.Context, now time.Time, limit int) (int64, error)
}
