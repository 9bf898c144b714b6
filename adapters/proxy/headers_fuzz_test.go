package proxy

import (
	"net/http"
	"strings"
	"testing"

	"github.com/authbff/authbff/adapters/httpshared"
)

// mustNotPass reports a client header name that must never be forwarded,
// written independently of denied(): the families of issue 9 item 3.
func mustNotPass(name string) bool {
	n := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(name), "_", "-"))
	for _, exact := range []string{"forwarded", "x-real-ip", "true-client-ip", "x-rewrite-url", "x-client-ip",
		"authorization", "proxy-authorization", "x-request-id"} {
		if n == exact {
			return true
		}
	}
	for _, prefix := range []string{"x-forwarded", "x-original", "x-tenant", "x-organization", "x-user", "x-auth", "x-remote"} {
		if strings.HasPrefix(n, prefix) {
			return true
		}
	}
	return false
}

// FuzzSanitize: whatever header names, values and Connection list a client
// sends, no owned or forbidden header and no authbff cookie survives
// sanitize, and a harmless header does.
func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"Authorization", "authorization", "X_Tenant_ID", "x-tenant-id", "X-Organization-Id",
		"X_ORGANIZATION_ID", "x-request_id", "Proxy-Authorization", "X-Tenant-ID ", "X-Other", "X_Forwarded_Host",
		"x-original-url", "X-Forwarded-User", "True-Client-IP", "X-Remote-User", "X-Auth-Request-Email", "x_user_id"} {
		f.Add(s, "evil", "keep-alive", "theme=dark; authjs.session-token=x")
	}
	f.Add("X-Custom", "v", "X_Custom, X-Tenant", "__Secure-authjs.session-token.0=a;b=c")
	f.Fuzz(func(t *testing.T, name, value, connection, cookie string) {
		in := http.Header{}
		in[name] = []string{value}
		in["X-Tenant-ID"] = []string{"evil"}
		in["Connection"] = []string{connection}
		in["Cookie"] = []string{cookie}
		in["X-Harmless"] = []string{"1"}
		out := in.Clone()
		sanitize(out, in)
		for k := range out {
			if mustNotPass(k) {
				t.Fatalf("header %q survived", k)
			}
		}
		for _, line := range out.Values("Cookie") {
			for _, part := range strings.Split(line, ";") {
				n, _, _ := strings.Cut(strings.TrimSpace(part), "=")
				if httpshared.IsAuthCookie(n) {
					t.Fatalf("cookie %q survived in %q", n, line)
				}
			}
		}
		if !strings.Contains(strings.ToUpper(connection), "X-HARMLESS") && !strings.Contains(strings.ToUpper(connection), "X_HARMLESS") &&
			out.Get("X-Harmless") != "1" {
			t.Fatalf("a harmless header was dropped (Connection %q)", connection)
		}
	})
}
