package proxy

import (
	"net/http"
	"net/textproto"
	"strings"
	"testing"
)

// FuzzStripOwned: after stripping, no spelling of an owned header survives,
// whatever names and values the client sent.
func FuzzStripOwned(f *testing.F) {
	for _, s := range []string{"Authorization", "authorization", "X_Tenant_ID", "x-tenant-id", "X-Organization-Id",
		"X_ORGANIZATION_ID", "x-request_id", "Proxy-Authorization", "X-Tenant-ID ", "X-Other"} {
		f.Add(s, "evil")
	}
	f.Fuzz(func(t *testing.T, name, value string) {
		h := http.Header{}
		h[name] = []string{value}
		h["X-Tenant-ID"] = []string{"evil"}
		stripOwned(h)
		for k := range h {
			norm := textproto.CanonicalMIMEHeaderKey(strings.ReplaceAll(k, "_", "-"))
			for _, owned := range ownedHeaders {
				if norm == textproto.CanonicalMIMEHeaderKey(owned) {
					t.Fatalf("header %q survived", k)
				}
			}
		}
	})
}

// FuzzStripAuthCookies: authbff's cookies never survive.
func FuzzStripAuthCookies(f *testing.F) {
	f.Add("authjs.session-token=x; theme=dark")
	f.Add("a=b;authjs.session-token=x;__Secure-authjs.session-token.0=y")
	f.Add("__Host-authjs.csrf-token=z")
	f.Fuzz(func(t *testing.T, cookie string) {
		h := http.Header{"Cookie": {cookie}}
		stripAuthCookies(h)
		for _, part := range strings.Split(h.Get("Cookie"), ";") {
			name, _, _ := strings.Cut(strings.TrimSpace(part), "=")
			if isAuthCookie(name) {
				t.Fatalf("cookie %q survived in %q", name, h.Get("Cookie"))
			}
		}
	})
}
