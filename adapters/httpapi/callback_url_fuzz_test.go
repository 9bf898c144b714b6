package httpapi

import (
	"net/url"
	"strings"
	"testing"
)

// openRedirectSeeds are the payloads behind oauth2-proxy's open-redirect
// advisories (CVE-2020-5233, CVE-2020-11053, CVE-2020-4037, CVE-2021-21291)
// and common bypass shapes.
var openRedirectSeeds = []string{
	"/dashboard", "/\\evil.com", "\\/evil.com", "//evil.com", "///evil.com", "/%2F%2Fevil.com", "/%5Cevil.com",
	"http:evil.com", "https:/evil.com", "https:evil.com", "//evil.com/%2e%2e", "/\t/evil.com", "/\n/evil.com",
	"/ /evil.com", "http://app.example.com@evil.com/", "http://evil.com#@app.example.com", "HTTP://EVIL.COM",
	"http://app.example.com.evil.com/", "http://evil.com\\@app.example.com", "javascript:alert(1)",
	"data:text/html,x", "http://[::1]/", "/.evil.com", "http://app.example.com:4000/ok", "http://app.example.com",
	"http://app.example.com/../../x", "%2F%2Fevil.com", "/%09/evil.com", "http://app.example.com%2F@evil.com",
}

// FuzzResolveCallbackURL: whatever the input, the result is an absolute URL
// on the app's origin, or an error; never another host.
func FuzzResolveCallbackURL(f *testing.F) {
	const origin = "http://app.example.com"
	for _, s := range openRedirectSeeds {
		f.Add(s)
	}
	f.Add("/?" + strings.Repeat(":", 2045))
	f.Add("/" + strings.Repeat("a", 2048))
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := resolveCallbackURL(raw, origin)
		if err != nil {
			return
		}
		u, perr := url.Parse(got)
		if perr != nil {
			t.Fatalf("resolveCallbackURL(%q) = %q: not a URL", raw, got)
		}
		if u.Scheme+"://"+u.Host != origin || u.User != nil {
			t.Fatalf("resolveCallbackURL(%q) = %q leaves the origin", raw, got)
		}
		// The origin itself, or followed by a path, query or fragment
		// ("http://app.example.com#x" is the app's own page).
		if rest := strings.TrimPrefix(got, origin); rest != "" && !strings.ContainsAny(rest[:1], "/?#") {
			t.Fatalf("resolveCallbackURL(%q) = %q", raw, got)
		}
		if len(raw) > maxCallbackURL || len(url.QueryEscape(got)) > maxCallbackCookieValue {
			t.Fatalf("resolveCallbackURL accepted %d bytes (cookie form %d)", len(raw), len(url.QueryEscape(got)))
		}
	})
}

// TestOpenRedirectTable checks the seeds explicitly.
func TestOpenRedirectTable(t *testing.T) {
	const origin = "http://app.example.com"
	for _, s := range openRedirectSeeds {
		got, err := resolveCallbackURL(s, origin)
		if err != nil {
			continue
		}
		if got != origin && !strings.HasPrefix(got, origin+"/") {
			t.Errorf("%q -> %q", s, got)
		}
		if strings.Contains(strings.ToLower(got), "evil") && strings.HasPrefix(got, origin+"/") {
			u, _ := url.Parse(got)
			if u.Host != "app.example.com" {
				t.Errorf("%q -> %q leaves the origin", s, got)
			}
		}
	}
}
