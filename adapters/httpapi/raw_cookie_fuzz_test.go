package httpapi

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzRawCookie holds rawCookie to net/http's r.Cookie for any Cookie
// header: the same value for the same name, or none.
func FuzzRawCookie(f *testing.F) {
	for _, seed := range []string{
		"authjs.session-token=abc",
		`authjs.session-token="abc"; authjs.csrf-token=x%7Cy`,
		"a=1; authjs.session-token=; authjs.session-token=second",
		"authjs.session-token=bad\\value; authjs.session-token=good",
		" \tauthjs.session-token = spaced ;;",
		"authjs.session-token=\"",
		"x=1\nauthjs.session-token=2",
		strings.Repeat("a=1;", 3001) + "authjs.session-token=many",
	} {
		f.Add(seed, "")
	}
	f.Add("authjs.session-token=1", "authjs.session-token=2")
	f.Fuzz(func(t *testing.T, line1, line2 string) {
		r, _ := http.NewRequest(http.MethodGet, "http://app.example.com/", nil)
		r.Header["Cookie"] = []string{line1}
		if line2 != "" {
			r.Header["Cookie"] = append(r.Header["Cookie"], line2)
		}
		for _, name := range []string{"authjs.session-token", "authjs.csrf-token", "a", "x"} {
			want := ""
			if c, err := r.Cookie(name); err == nil {
				want = c.Value
			}
			if got := rawCookie(r, name); got != want {
				t.Fatalf("rawCookie(%q) = %q, r.Cookie = %q for %q", name, got, want, r.Header["Cookie"])
			}
		}
	})
}
