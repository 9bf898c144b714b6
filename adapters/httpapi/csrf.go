package httpapi

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"
)

// csrf implements Auth.js's double-submit CSRF token (contract C2): the
// cookie holds "<token>|<sha256hex(token + secret)>", the page echoes the
// token in the POST body. A cookie whose hash does not verify under any
// configured secret is replaced, so a planted cookie is useless. Using the
// AUTH_SECRET string itself keeps cookies minted by the replaced Next.js app
// valid during a cut-over.
type csrf struct {
	secrets [][]byte
}

func (c csrf) hash(token string, secret []byte) string {
	sum := c.sum(token, secret)
	return string(sum[:])
}

// sum is sha256hex(token + secret), on the stack: verifyCookie runs on
// every Auth.js request.
func (c csrf) sum(token string, secret []byte) (out [2 * sha256.Size]byte) {
	var buf [192]byte
	b := append(append(buf[:0], token...), secret...)
	sum := sha256.Sum256(b)
	hex.Encode(out[:], sum[:])
	return out
}

// mint returns a new token and its cookie value (URL-encoded, as Auth.js
// writes it).
func (c csrf) mint() (token, cookie string) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	token = hex.EncodeToString(b[:])
	return token, token + "%7C" + c.hash(token, c.secrets[0])
}

// verifyCookie returns the token of a valid cookie value, or "" if it is
// missing or forged. The value is taken as received: the separator may be
// URL-encoded ("%7C", as Auth.js writes it) or not; token and hash are hex,
// which nothing encodes.
func (c csrf) verifyCookie(value string) string {
	token, hash, ok := strings.Cut(value, "|")
	if !ok {
		if token, hash, ok = strings.Cut(value, "%7C"); !ok {
			token, hash, ok = strings.Cut(value, "%7c")
		}
	}
	if !ok || len(token) != 64 || len(hash) != 2*sha256.Size {
		return ""
	}
	for _, s := range c.secrets {
		want := c.sum(token, s)
		var diff byte // constant time, as subtle.ConstantTimeCompare, without converting hash
		for i := range want {
			diff |= want[i] ^ hash[i]
		}
		if diff == 0 {
			return token
		}
	}
	return ""
}

// matches compares the submitted token with the cookie's in constant time.
func matches(cookieToken, submitted string) bool {
	return cookieToken != "" && subtle.ConstantTimeCompare([]byte(cookieToken), []byte(submitted)) == 1
}
