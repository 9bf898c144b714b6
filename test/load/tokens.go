package main

import (
	"crypto/sha256"
	"encoding/base64"
	"strconv"
)

// liveTokenPrefix and expiredTokenPrefix make the seeded tokens
// deterministic: token i is base64url(sha256(prefix + i)) without padding,
// 43 characters like a token authbff issues. The load generator rebuilds the
// cookies from the index alone, so nothing secret is stored or passed around.
const (
	liveTokenPrefix    = "authbff-load-"
	expiredTokenPrefix = "authbff-load-expired-"
)

// liveToken returns the cookie value of seeded live session i.
func liveToken(i int) string { return deriveToken(liveTokenPrefix, i) }

func deriveToken(prefix string, i int) string {
	sum := sha256.Sum256([]byte(prefix + strconv.Itoa(i)))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// sqlToken is the SQL twin of deriveToken for PostgreSQL, for generate_series
// index i and a text prefix parameter: encode(..., 'base64') pads with '='
// and uses +/ where base64url uses -_.
const sqlToken = `rtrim(translate(encode(sha256(convert_to(%s || i::text, 'UTF8')), 'base64'), '+/', '-_'), '=')`

// sqlTokenHash is what authbff stores: the lowercase hex SHA-256 of the token.
const sqlTokenHash = `encode(sha256(convert_to(` + sqlToken + `, 'UTF8')), 'hex')`
