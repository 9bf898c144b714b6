package httpshared

import "strings"

// The Auth.js v5 cookie names without their prefix (AUTHJS-CONTRACT C1). Over
// https the CSRF cookie is __Host- prefixed and the others __Secure-.
const (
	SessionCookie     = "authjs.session-token"
	CSRFCookie        = "authjs.csrf-token"
	CallbackURLCookie = "authjs.callback-url"
	PKCECookie        = "authjs.pkce.code_verifier"
	// LegacySessionCookie is the NextAuth v4 session cookie, read during a
	// cut-over from the replaced app.
	LegacySessionCookie = "next-auth.session-token"
)

// CookieName is the wire name of base for the scheme.
func CookieName(base string, secure bool) string {
	switch {
	case !secure:
		return base
	case base == CSRFCookie:
		return "__Host-" + base
	default:
		return "__Secure-" + base
	}
}

// authCookieFamilies are the name families authbff owns: every Auth.js and
// NextAuth cookie, chunks (".0", ".1") and future names included.
var authCookieFamilies = []string{"authjs.", "next-auth."}

// IsAuthCookie reports whether a cookie belongs to authbff: any Auth.js or
// NextAuth name, with or without a __Secure-/__Host- prefix, in any case
// (some servers compare cookie names case-insensitively). Such cookies
// never reach the backend, and the backend may never set them.
func IsAuthCookie(name string) bool {
	n := strings.ToLower(strings.TrimSpace(name))
	n = strings.TrimPrefix(n, "__secure-")
	n = strings.TrimPrefix(n, "__host-")
	for _, f := range authCookieFamilies {
		if strings.HasPrefix(n, f) {
			return true
		}
	}
	return false
}
