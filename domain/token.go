package domain

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
)

// SessionTokenBytes is the entropy of a session token: 32 bytes from crypto/rand.
const SessionTokenBytes = 32

// SessionToken is the secret a browser holds in its session cookie. It is never
// stored; only its TokenHash is.
type SessionToken string

// TokenHash is the lowercase hex SHA-256 of a SessionToken, the only form of
// the token that reaches the database. A leaked table therefore yields no
// usable cookies.
type TokenHash string

// NewSessionToken returns a fresh token: 32 random bytes, base64url without
// padding (43 characters).
func NewSessionToken() SessionToken {
	var b [SessionTokenBytes]byte
	_, _ = rand.Read(b[:])
	return SessionToken(base64.RawURLEncoding.EncodeToString(b[:]))
}

// ErrMalformedToken means a presented token cannot be a token authbff issued.
var ErrMalformedToken = errors.New("malformed session token")

// ParseSessionToken checks that s has the shape of a token authbff issues, so
// garbage cookies are refused before any database work. Tokens imported from
// Auth.js (UUIDs) are accepted too: they are hashed the same way.
func ParseSessionToken(s string) (SessionToken, error) {
	if len(s) < 32 || len(s) > 128 {
		return "", ErrMalformedToken
	}
	for i := 0; i < len(s); i++ {
		if !tokenByte[s[i]] {
			return "", ErrMalformedToken
		}
	}
	return SessionToken(s), nil
}

// tokenByte marks the bytes a token may hold, [A-Za-z0-9_-]: a table,
// because every request with a session cookie checks each of its bytes.
var tokenByte = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
	}
	return t
}()

// Hash returns the token's SHA-256 as lowercase hex.
func (t SessionToken) Hash() TokenHash {
	var buf [128]byte // tokens are at most 128 bytes: no copy on the heap
	sum := sha256.Sum256(append(buf[:0], t...))
	var out [2 * sha256.Size]byte
	hex.Encode(out[:], sum[:])
	return TokenHash(out[:])
}

// HashSecret hashes any other one-time secret (verification tokens) the same
// way as session tokens.
func HashSecret(secret string) TokenHash {
	return SessionToken(secret).Hash()
}
