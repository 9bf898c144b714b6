package domain

import (
	"crypto/sha256"
	"fmt"
	"time"
)

// ImportedUserAgent marks sessions taken over from a NextAuth database, so an
// operator can count them (`WHERE user_agent = '(imported from NextAuth)'`)
// and a user sees where a session in their list came from.
const ImportedUserAgent = "(imported from NextAuth)"

// DerivedID returns a UUID (version 8, RFC 9562) computed from kind and key,
// so the same source row always gets the same id and a repeated import
// finds what an earlier one wrote.
func DerivedID(kind, key string) string {
	sum := sha256.Sum256([]byte("authbff-import\x00" + kind + "\x00" + key))
	b := sum[:16]
	b[6] = (b[6] & 0x0f) | 0x80
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// NewImportedSession takes over a session another system issued: the
// browser keeps its cookie token, so the stored hash is that token's. The
// source knows neither when the session was signed in nor when it was last
// used, so the import counts as its last use: it gets policy's lifetimes from
// now, and never outlives the expiry the source gave it.
func NewImportedSession(token SessionToken, p NewSessionParams, sourceExpires time.Time, policy SessionPolicy, now time.Time) (*Session, error) {
	if p.UserID == "" {
		return nil, &ValidationError{Field: "UserID", Reason: "required"}
	}
	if _, err := ParseSessionToken(string(token)); err != nil {
		return nil, err
	}
	if err := policy.Validate(); err != nil {
		return nil, err
	}
	expires, absolute := policy.NewLifetime(now)
	expires = minTime(expires, sourceExpires)
	hash := token.Hash()
	return &Session{r: p.record(DerivedID("session", string(hash)), hash, now, expires, absolute)}, nil
}
