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
	h := sha256.New()
	h.Write([]byte(token))
	h.Write(secret)
	return hex.EncodeToString(h.Sum(nil))
}

// mint returns a new token and its cookie value (URL-encoded, as Auth.js
// writes it).
func (c csrf) mint() (token, cookie string) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	token = hex.EncodeToString(b[:])
	return token, token + "%7C" + c.hash(token, c.secrets[0])
}

// verifyCookie returns the token of a valid cookie value (already
// URL-decoded), or "" if it is missing or forged.
func (c csrf) verifyCookie(value string) string {
	token, hash, ok := strings.Cut(value, "|")
	if !ok || len(token) != 64 {
		return ""
	}
	for _, s := range c.secrets {
		if subtle.ConstantTimeCompare([]byte(hash), []byte(c.hash(token, s))) == 1 {
			return token
		}
	}
	return ""
}

// matches compares the submitted token with the cookie's in constant time.
func matches(cookieToken, submitted string) bool {
	return cookieToken != "" && subtle.ConstantTimeCompare([]byte(cookieToken), []byte(submitted)) == 1
}
