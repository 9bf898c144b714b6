package proxy

import (
	"net/http"
	"strings"

	"github.com/authbff/authbff/adapters/httpshared"
)

// deniedNames are request headers no client copy of which reaches the
// backend: authbff sets its own, or they claim a client address, a
// credential or an original URL the backend might believe. Compared on the
// normalised name (upper case, '_' read as '-'), because some servers
// (nginx with underscores_in_headers, CGI/WSGI, Spring's header lookup)
// treat X_Forwarded_Host as X-Forwarded-Host (oauth2-proxy CVE-2025-64484).
var deniedNames = map[string]bool{
	"FORWARDED": true, "X-REAL-IP": true, "TRUE-CLIENT-IP": true, "X-REWRITE-URL": true, "X-CLIENT-IP": true,
	"AUTHORIZATION": true, "PROXY-AUTHORIZATION": true, "X-REQUEST-ID": true, "HOST": true,
}

// deniedPrefixes extend deniedNames to whole families, so that names nobody
// listed (X-Forwarded-User, X-Tenant-Whatever, X-Original-URL, X-Auth-Email,
// X-Remote-User ...) are covered too.
var deniedPrefixes = []string{"X-FORWARDED", "X-ORIGINAL", "X-TENANT", "X-ORGANIZATION", "X-USER", "X-AUTH", "X-REMOTE"}

// hopHeaders are the hop-by-hop headers ReverseProxy itself sets on the
// outgoing request (Connection/Upgrade for a protocol upgrade, Te:
// trailers): a client naming them in Connection does not remove them.
var hopHeaders = map[string]bool{"CONNECTION": true, "UPGRADE": true, "TE": true}

// normName is a header name as the most lenient server reads it.
func normName(name string) string {
	return strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(name), "_", "-"))
}

// denied reports whether a client header named name must not be forwarded.
// connection holds the normalised names listed in the client's Connection
// header (hop-by-hop by the client's own declaration).
func denied(name string, connection map[string]bool) bool {
	n := normName(name)
	if deniedNames[n] || connection[n] && !hopHeaders[n] {
		return true
	}
	for _, p := range deniedPrefixes {
		if strings.HasPrefix(n, p) {
			return true
		}
	}
	return false
}

// sanitize removes from out (the outgoing headers, a copy of the client's)
// every denied header in any spelling, and authbff's cookies from Cookie.
// in is the client's request header, for its Connection list.
func sanitize(out, in http.Header) {
	connection := map[string]bool{}
	for _, v := range in.Values("Connection") {
		for _, tok := range strings.Split(v, ",") {
			if tok = normName(tok); tok != "" {
				connection[tok] = true
			}
		}
	}
	for name := range out {
		if normName(name) == "COOKIE" && !connection["COOKIE"] {
			keepOtherCookies(out, name)
			continue
		}
		if denied(name, connection) {
			delete(out, name)
		}
	}
}

// keepOtherCookies removes authbff's cookies (httpshared.IsAuthCookie) from
// the Cookie header stored under key and keeps the others: the backend is
// same-origin, so the app's and the backend's own cookies (a locale, the
// backend's own session) are the browser's business, but authbff's session,
// CSRF, callback and PKCE cookies never leave authbff (Duende BFF
// GHSA-vvg7-p7jw-8qr3 forwarded its session cookie upstream).
func keepOtherCookies(h http.Header, key string) {
	var keep []string
	for _, line := range h[key] {
		for _, part := range strings.Split(line, ";") {
			part = strings.TrimSpace(part)
			name, _, _ := strings.Cut(part, "=")
			if part == "" || httpshared.IsAuthCookie(name) {
				continue
			}
			keep = append(keep, part)
		}
	}
	delete(h, key)
	if len(keep) > 0 {
		h["Cookie"] = []string{strings.Join(keep, "; ")}
	}
}
