package domain

import "time"

// VerificationToken is a one-time secret bound to an identifier (an email
// address for magic links). Only its hash is stored; a lookup must match the
// identifier, the hash and an unexpired expiry together.
type VerificationToken struct {
	Identifier string
	TokenHash  TokenHash
	Expires    time.Time
}

// Expired reports whether the token is past its expiry at now.
func (v VerificationToken) Expired(now time.Time) bool { return !now.Before(v.Expires) }
