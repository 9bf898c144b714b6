package httpapi

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// cookieNames are the Auth.js v5 cookie names for one scheme (C1 of the
// contract): __Secure- prefixed over https, the CSRF cookie __Host-.
type cookieNames struct {
	session, csrf, callbackURL, pkce string
	secure                           bool
	// legacy accepts NextAuth v4 session cookie names (cut-over only).
	legacy bool
}

func newCookieNames(secure bool) cookieNames {
	if secure {
		return cookieNames{
			session: "__Secure-authjs.session-token", csrf: "__Host-authjs.csrf-token",
			callbackURL: "__Secure-authjs.callback-url", pkce: "__Secure-authjs.pkce.code_verifier", secure: true,
		}
	}
	return cookieNames{
		session: "authjs.session-token", csrf: "authjs.csrf-token",
		callbackURL: "authjs.callback-url", pkce: "authjs.pkce.code_verifier",
	}
}

// legacySessionCookie is the NextAuth v4 name, read only during a cut-over
// (AUTH_ACCEPT_LEGACY_COOKIES) so sessions imported from the old app keep
// working. Over https only the __Secure- name: an unprefixed cookie can be
// planted by a sibling subdomain or over plain http (session fixation).
func (n cookieNames) legacySessionCookie() string {
	if n.secure {
		return "__Secure-next-auth.session-token"
	}
	return "next-auth.session-token"
}

// setCookie writes one cookie with Auth.js's attributes: Path=/, HttpOnly,
// SameSite=Lax, Secure over https, no Domain. value must already be in wire
// form. expires zero means a browser-session cookie; maxAge < 0 clears.
func (n cookieNames) set(w http.ResponseWriter, name, value string, expires time.Time, maxAge int) {
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte('=')
	b.WriteString(value)
	if maxAge > 0 {
		b.WriteString("; Max-Age=")
		b.WriteString(itoa(maxAge))
	} else if maxAge < 0 {
		b.WriteString("; Max-Age=0")
	}
	b.WriteString("; Path=/")
	if !expires.IsZero() && maxAge >= 0 {
		b.WriteString("; Expires=")
		b.WriteString(expires.UTC().Format(http.TimeFormat))
	}
	b.WriteString("; HttpOnly")
	if n.secure {
		b.WriteString("; Secure")
	}
	b.WriteString("; SameSite=Lax")
	w.Header().Add("Set-Cookie", b.String())
}

func (n cookieNames) clear(w http.ResponseWriter, name string) { n.set(w, name, "", time.Time{}, -1) }

// clearSession clears every cookie whose name starts with the session cookie
// name, as Auth.js treats those as chunks of one session cookie.
func (n cookieNames) clearSession(w http.ResponseWriter, r *http.Request) {
	n.clear(w, n.session)
	for _, c := range r.Cookies() {
		if c.Name != n.session && strings.HasPrefix(c.Name, n.session) {
			n.clear(w, c.Name)
		}
	}
}

// sessionToken returns the session cookie's value, falling back to the v4
// names.
func (n cookieNames) sessionToken(r *http.Request) string {
	if c, err := r.Cookie(n.session); err == nil && c.Value != "" {
		return c.Value
	}
	if n.legacy {
		if c, err := r.Cookie(n.legacySessionCookie()); err == nil && c.Value != "" {
			return c.Value
		}
	}
	return ""
}

// cookieValue reads a cookie and URL-decodes it (Auth.js serialises values
// URL-encoded; Go does not decode them).
func cookieValue(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	v, err := url.QueryUnescape(c.Value)
	if err != nil {
		return c.Value
	}
	return v
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var buf [20]byte
	i := len(buf)
	for n > 0 {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	return string(buf[i:])
}
