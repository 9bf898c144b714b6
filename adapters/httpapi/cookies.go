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
	if v := c.String(); v != "" && len(v) <= maxSetCookie {
		w.Header().Add("Set-Cookie", v) // http.SetCookie, without a second String()
	}
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
	if v := rawCookie(r, n.session); v != "" {
		return v
	}
	if n.legacy {
		return rawCookie(r, n.legacySessionCookie())
	}
	return ""
}

// cookieValue reads a cookie and URL-decodes it (Auth.js serialises values
// URL-encoded; Go does not decode them).
func cookieValue(r *http.Request, name string) string {
	raw := rawCookie(r, name)
	if !strings.ContainsAny(raw, "%+") {
		return raw // nothing to decode: no copy
	}
	v, err := url.QueryUnescape(raw)
	if err != nil {
		return raw
	}
	return v
}

// maxCookies is net/http's limit on the cookies of one request (its
// httpcookiemaxnum default): beyond it r.Cookie finds none, and so does
// rawCookie.
const maxCookies = 3000

// rawCookie is r.Cookie(name).Value (the first valid cookie of that name,
// quotes stripped; "" when there is none) without allocating: every request
// to authbff reads three cookies, and r.Cookie builds a slice and a Cookie
// for each. FuzzRawCookie holds it to r.Cookie's answers.
func rawCookie(r *http.Request, name string) string {
	lines := r.Header["Cookie"]
	n := 0
	for _, line := range lines {
		n += strings.Count(line, ";") + 1
	}
	if n > maxCookies {
		return ""
	}
	for _, line := range lines {
		line = trimCookieSpace(line)
		var part string
		for len(line) > 0 {
			part, line, _ = strings.Cut(line, ";")
			part = trimCookieSpace(part)
			k, v, _ := strings.Cut(part, "=")
			if trimCookieSpace(k) != name || name == "" {
				continue
			}
			if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			if validCookieValue(v) {
				return v
			}
		}
	}
	return ""
}

// validCookieValue is net/http's check of a received cookie value.
func validCookieValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if b := v[i]; b < 0x20 || b >= 0x7f || b == '"' || b == ';' || b == '\\' {
			return false
		}
	}
	return true
}

// trimCookieSpace is textproto.TrimString: ASCII space, tab, CR and LF.
func trimCookieSpace(s string) string {
	for len(s) > 0 && isCookieSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isCookieSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func isCookieSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\r' || b == '\n' }
