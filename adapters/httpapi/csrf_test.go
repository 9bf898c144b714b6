package httpapi

import (
	"strings"
	"testing"
)

// TestCSRFCookieVerification: a minted cookie verifies as sent (separator
// URL-encoded in either case, or decoded), under any configured secret; a
// forged or truncated one does not.
func TestCSRFCookieVerification(t *testing.T) {
	old := csrf{secrets: [][]byte{[]byte("old-secret-0123456789abcdef0123456789")}}
	c := csrf{secrets: [][]byte{[]byte("new-secret-0123456789abcdef0123456789"), old.secrets[0]}}
	token, cookie := c.mint()
	_, oldCookie := old.mint()
	oldToken, _, _ := strings.Cut(oldCookie, "%7C")
	for _, tc := range []struct {
		value, want string
	}{
		{cookie, token},
		{strings.Replace(cookie, "%7C", "%7c", 1), token},
		{strings.Replace(cookie, "%7C", "|", 1), token},
		{oldCookie, oldToken},
		{token + "%7C" + strings.Repeat("0", 64), ""},
		{cookie[:len(cookie)-1], ""},
		{cookie + "0", ""},
		{token, ""},
		{"", ""},
		{strings.ToUpper(cookie), ""},
	} {
		if got := c.verifyCookie(tc.value); got != tc.want {
			t.Errorf("verifyCookie(%q) = %q, want %q", tc.value, got, tc.want)
		}
	}
}
