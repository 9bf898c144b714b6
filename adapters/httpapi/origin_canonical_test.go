package httpapi

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestOriginIsCanonical: AUTH_URL written with capitals or a default port
// still names the origin browsers send, so the Origin guard does not refuse
// the app's own requests; another port or host is another origin.
func TestOriginIsCanonical(t *testing.T) {
	for raw, want := range map[string]string{
		"https://App.Example.com:443/api/auth": "https://app.example.com",
		"HTTP://127.0.0.1:80/api/auth":         "http://127.0.0.1",
		"http://127.0.0.1:4000/api/auth":       "http://127.0.0.1:4000",
		"https://[::1]:443/api/auth":           "https://[::1]",
	} {
		u, err := url.Parse(raw)
		require.NoError(t, err)
		require.Equal(t, want, Config{PublicURL: u}.Origin(), raw)
	}
	require.True(t, sameOrigin("https://app.example.com", "https://app.example.com"))
	require.True(t, sameOrigin("https://APP.example.com:443", "https://app.example.com"))
	require.False(t, sameOrigin("https://app.example.com:8443", "https://app.example.com"))
	require.False(t, sameOrigin("https://app.example.com.evil.example", "https://app.example.com"))
	require.False(t, sameOrigin("null", "https://app.example.com"))
	require.False(t, sameOrigin("https://app.example.com/path", "https://app.example.com"))
}
