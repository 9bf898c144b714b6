package httpapi

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

// openRedirectCases are the payloads behind oauth2-proxy's open-redirect
// advisories (CVE-2020-5233, CVE-2020-11053, CVE-2020-4037, CVE-2021-21291)
// and common bypass shapes, each with what it must resolve to: a path on the
// app's origin, the bare origin (an off-site or ambiguous target), or an
// error (not an http(s) URL at all).
var openRedirectCases = []struct {
	in      string
	want    string
	refused bool
}{
	{"/dashboard", "http://app.example.com/dashboard", false},
	{"/\\evil.com", "http://app.example.com", false},
	{"\\/evil.com", "http://app.example.com", false},
	{"//evil.com", "http://app.example.com", false},
	{"///evil.com", "http://app.example.com", false},
	{"/%2F%2Fevil.com", "http://app.example.com/%2F%2Fevil.com", false},
	{"/%5Cevil.com", "http://app.example.com/%5Cevil.com", false},
	{"http:evil.com", "", true},
	{"https:/evil.com", "", true},
	{"https:evil.com", "", true},
	{"//evil.com/%2e%2e", "http://app.example.com", false},
	{"/\t/evil.com", "http://app.example.com", false},
	{"/\n/evil.com", "http://app.example.com", false},
	{"/ /evil.com", "http://app.example.com/%20/evil.com", false},
	{"http://app.example.com@evil.com/", "http://app.example.com", false},
	{"http://evil.com#@app.example.com", "http://app.example.com", false},
	{"HTTP://EVIL.COM", "http://app.example.com", false},
	{"http://app.example.com.evil.com/", "http://app.example.com", false},
	{"http://evil.com\\@app.example.com", "http://app.example.com", false},
	{"javascript:alert(1)", "", true},
	{"data:text/html,x", "", true},
	{"http://[::1]/", "http://app.example.com", false},
	{"/.evil.com", "http://app.example.com/.evil.com", false},
	{"http://app.example.com:4000/ok", "http://app.example.com", false},
	{"http://app.example.com", "http://app.example.com", false},
	{"http://app.example.com/reports?q=1", "http://app.example.com/reports?q=1", false},
	{"http://app.example.com/../../x", "http://app.example.com/../../x", false},
	{"%2F%2Fevil.com", "", true},
	{"/%09/evil.com", "http://app.example.com/%09/evil.com", false},
	{"http://app.example.com%2F@evil.com", "http://app.example.com", false},
	{"", "http://app.example.com", false},
}

// FuzzResolveCallbackURL: whatever the input, the result is an absolute URL
// on the app's origin, or an error; never another host.
func FuzzResolveCallbackURL(f *testing.F) {
	const origin = "http://app.example.com"
	for _, c := range openRedirectCases {
		f.Add(c.in)
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

// TestOpenRedirectTable checks that each case resolves to its expected
// outcome: a resolver that refused everything, or sent everything to the
// origin, fails here.
func TestOpenRedirectTable(t *testing.T) {
	const origin = "http://app.example.com"
	for _, c := range openRedirectCases {
		got, err := resolveCallbackURL(c.in, origin)
		if c.refused {
			if !errors.Is(err, errBadCallbackURL) {
				t.Errorf("%q -> %q, %v; want errBadCallbackURL", c.in, got, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q -> %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

// TestOriginResolvesToItself backs resolveCallbackURL's shortcut for the
// origin itself: the full resolution gives the same answer for every shape
// of origin Config.Origin produces.
func TestOriginResolvesToItself(t *testing.T) {
	for _, origin := range []string{"http://127.0.0.1:4000", "https://app.example.com", "http://localhost",
		"http://[::1]:8080", "https://xn--bcher-kva.example"} {
		got, err := resolveCallbackURLUnbounded(origin, origin)
		if err != nil || got != origin {
			t.Errorf("resolveCallbackURLUnbounded(%q) = %q, %v; the shortcut would answer %q", origin, got, err, origin)
		}
	}
}
