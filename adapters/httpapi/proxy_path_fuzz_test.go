package httpapi

import (
	"net/url"
	"path"
	"strings"
	"testing"
)

// FuzzCleanProxyPath feeds raw request targets to the proxy's path cleaner.
// Whatever it accepts must be a plain path: rooted, already clean (no dot
// segments, no empty segments), with no separator or percent sign left
// encoded, no ';', '\' or NUL, so the role rules, the proxy and a backend
// that decodes once more all see the same path. It never panics.
func FuzzCleanProxyPath(f *testing.F) {
	for _, s := range []string{
		"/api/proxy/users", "/api/proxy/admin/x", "/api/proxy//admin", "/api/proxy/x/../admin",
		"/api/proxy/./admin", "/api/proxy/admin;x", "/api/proxy/%2e%2e/admin", "/api/proxy/%252e%252e/admin",
		"/api/proxy/a%2fb", "/api/proxy/a%5cb", "/api/proxy/a\\b", "/api/proxy/", "/api/proxy",
		"/api/proxy/caf%C3%A9", "/api/proxy/a%20b", "/api/proxy/A/B/", "/api/proxy/%00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, target string) {
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		p, ok := cleanProxyPath(u, ProxyPrefix)
		if !ok {
			return
		}
		if !strings.HasPrefix(p, "/") || strings.Contains(p, "//") || strings.ContainsAny(p, ";\\\x00") {
			t.Fatalf("accepted %q as %q: not a plain path", target, p)
		}
		for _, seg := range strings.Split(p, "/") {
			if seg == "." || seg == ".." {
				t.Fatalf("accepted %q as %q: a dot segment", target, p)
			}
		}
		if c := path.Clean(p); c != p && c+"/" != p {
			t.Fatalf("accepted %q as %q: not clean (%q)", target, p, c)
		}
		lower := strings.ToLower(u.EscapedPath())
		for _, enc := range []string{"%2f", "%5c", "%2e", "%25", "%00", "%3b"} {
			if strings.Contains(lower, enc) {
				t.Fatalf("accepted %q with %s encoded", target, enc)
			}
		}
		if un, err := url.PathUnescape(p); err == nil && un != p && strings.ContainsAny(un, "/\\;%") {
			t.Fatalf("accepted %q as %q, which decodes again to %q", target, p, un)
		}
	})
}
