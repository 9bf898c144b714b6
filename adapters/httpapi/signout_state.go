package httpapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// signoutStateTTL bounds the trip through the IdP's logout: Keycloak asks
// the user to confirm when it gets no id_token_hint, which can take a while.
const signoutStateTTL = 15 * time.Minute

// signoutStateLabel separates these MACs from every other use of AUTH_SECRET.
const signoutStateLabel = "authbff signout state v1\x00"

// signoutState is the `state` sent to the IdP with authbff's one registered
// post-logout URI ({AUTH_URL}/signout/callback): the already validated
// callback URL and an expiry, with an HMAC under the first AUTH_SECRET. It
// is not secret (the URL is the app's own); the MAC makes the callback
// redirect only where authbff itself decided, and the callback checks the
// URL against the open-redirect rule again anyway.
func (c csrf) signoutState(callbackURL string, now time.Time) string {
	payload := strconv.FormatInt(now.Add(signoutStateTTL).Unix(), 10) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(callbackURL))
	return payload + "." + base64.RawURLEncoding.EncodeToString(c.signoutMAC(payload, c.secrets[0]))
}

// openSignoutState returns the callback URL of a state minted by
// signoutState under any configured secret and not expired.
func (c csrf) openSignoutState(state string, now time.Time) (string, bool) {
	i := strings.LastIndexByte(state, '.')
	if i < 0 || len(state) > 8<<10 {
		return "", false
	}
	payload := state[:i]
	mac, err := base64.RawURLEncoding.DecodeString(state[i+1:])
	if err != nil {
		return "", false
	}
	verified := false
	for _, s := range c.secrets {
		if hmac.Equal(mac, c.signoutMAC(payload, s)) {
			verified = true
			break
		}
	}
	exp, enc, ok := strings.Cut(payload, ".")
	if !verified || !ok {
		return "", false
	}
	unix, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || now.After(time.Unix(unix, 0)) {
		return "", false
	}
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return "", false
	}
	return string(raw), true
}

func (c csrf) signoutMAC(payload string, secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(signoutStateLabel))
	m.Write([]byte(payload))
	return m.Sum(nil)
}
