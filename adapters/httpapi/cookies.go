package httpapi

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/authbff/authbff/adapters/httpshared"
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
	return cookieNames{
		session:     httpshared.CookieName(httpshared.SessionCookie, secure),
		csrf:        httpshared.CookieName(httpshared.CSRFCookie, secure),
		callbackURL: httpshared.CookieName(httpshared.CallbackURLCookie, secure),
		pkce:        httpshared.CookieName(httpshared.PKCECookie, secure),
		secure:      secure,
	}
}

// legacySessionCookie is the NextAuth v4 name, read only during a cut-over
// (AUTH_ACCEPT_LEGACY_COOKIES) so sessions imported from the old app keep
// working. Over https only the __Secure- name: an unprefixed cookie can be
// planted by a sibling subdomain or over plain http (session fixation).
func (n cookieNames) legacySessionCookie() string {
	return httpshared.CookieName(httpshared.LegacySessionCookie, n.secure)
}

// maxSetCookie is the longest Set-Cookie value authbff writes: browsers
// drop cookies over 4096 bytes and some proxies answer 502 to longer lines.
const maxSetCookie = 4096

// set writes one cookie with Auth.js's attributes: Path=/, HttpOnly,
// SameSite=Lax, Secure over https, no Domain. value must already be in wire
// form. expires zero means a browser-session cookie; maxAge < 0 clears. A
// cookie longer than maxSetCookie is not written (inputs are bounded before
// they reach a cookie, so this is the last line, not the rule).
func (n cookieNames) set(w http.ResponseWriter, name, value string, expires time.Time, maxAge int) {
	c := &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		Secure: n.secure, SameSite: http.SameSiteLaxMode}
	if maxAge >= 0 {
		c.Expires = expires
	}
	if len(c.String()) > maxSetCookie {
		return
	}
	http.SetCookie(w, c)
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
