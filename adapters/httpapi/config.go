package httpapi

import (
	"net"
	"net/url"
	"strings"
	"time"
)

// Config is the HTTP adapter's configuration.
type Config struct {
	// ListenAddr is host:port to listen on.
	ListenAddr string
	// PublicURL is AUTH_URL: the app's public origin plus the auth base path
	// (default path /api/auth). It decides cookie prefixes (https → __Secure-)
	// and every absolute URL authbff emits.
	PublicURL *url.URL
	// TrustedProxies are the proxies whose X-Forwarded-For is believed for the
	// client IP. Empty means none: the socket peer is the client.
	TrustedProxies []string
	// ShutdownTimeout bounds graceful shutdown.
	ShutdownTimeout time.Duration
	// Debug turns on gin's debug mode (route table on start).
	Debug bool
	// Secrets are the AUTH_SECRET values; the first signs CSRF cookies, all
	// verify them.
	Secrets [][]byte
	// PostLogoutRedirectURL, when set, is the post_logout_redirect_uri sent
	// to the IdP on sign-out instead of the client's callbackUrl.
	PostLogoutRedirectURL string
	// DisableTokenEndpoint turns GET /api/auth/token off.
	DisableTokenEndpoint bool
	// TokenRateLimit is the most /token calls per session per second and
	// process (0: default 10).
	TokenRateLimit int
	// SignInRateLimit is the most sign-ins a client IP may start per second
	// and process (0: default 20).
	SignInRateLimit int
	// AcceptLegacyCookies reads NextAuth v4 session cookie names during a
	// cut-over from the replaced app.
	AcceptLegacyCookies bool
	// MetricsToken, when set, is required as a bearer token on /metrics;
	// without it /metrics answers only loopback clients.
	MetricsToken string
}

// BasePath returns the Auth.js base path, e.g. "/api/auth".
func (c Config) BasePath() string {
	if c.PublicURL == nil || c.PublicURL.Path == "" || c.PublicURL.Path == "/" {
		return "/api/auth"
	}
	p := c.PublicURL.Path
	for len(p) > 1 && p[len(p)-1] == '/' {
		p = p[:len(p)-1]
	}
	return p
}

// Origin returns scheme://host of the public URL in the form browsers send
// in Origin: scheme and host in lower case, no default port
// (https://App.example.com:443 is https://app.example.com).
func (c Config) Origin() string {
	if c.PublicURL == nil {
		return ""
	}
	return canonicalOrigin(c.PublicURL.Scheme, c.PublicURL.Host)
}

// canonicalOrigin serialises an origin as browsers do.
func canonicalOrigin(scheme, host string) string {
	scheme, host = strings.ToLower(scheme), strings.ToLower(host)
	if h, port, err := net.SplitHostPort(host); err == nil &&
		(scheme == "https" && port == "443" || scheme == "http" && port == "80") {
		host = h
		if strings.Contains(h, ":") {
			host = "[" + h + "]"
		}
	}
	return scheme + "://" + host
}

// Secure reports whether cookies get the Secure attribute and __Secure- names.
func (c Config) Secure() bool { return c.PublicURL != nil && c.PublicURL.Scheme == "https" }
