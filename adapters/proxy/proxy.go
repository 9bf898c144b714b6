package proxy

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/textproto"
	"net/url"
	"strings"
	"time"

	"github.com/authbff/authbff/application"
)

// Config configures the upstream.
type Config struct {
	// Upstream is the backend API base URL (NEXT_PUBLIC_SPRING_API_URL).
	Upstream *url.URL
	// StripPrefix is removed from the incoming path ("/api/proxy").
	StripPrefix string
	// Timeout bounds waiting for the upstream's response headers; bodies
	// stream without a deadline.
	Timeout time.Duration
}

// ownedHeaders are set only by authbff. Every incoming spelling is removed,
// including underscore variants some servers normalise to the same name
// (oauth2-proxy CVE-2025-64484).
var ownedHeaders = []string{"Authorization", "X-Tenant-ID", "X-Organization-ID", "X-Request-ID", "X-User-ID", "Proxy-Authorization"}

// authCookiePrefixes name the cookies that never leave authbff (Duende BFF
// GHSA-vvg7-p7jw-8qr3 forwarded its session cookie upstream).
var authCookiePrefixes = []string{"authjs.", "__Secure-authjs.", "__Host-authjs.", "next-auth.", "__Secure-next-auth.", "__Host-next-auth."}

// Proxy forwards authorised requests to the upstream.
type Proxy struct {
	cfg Config
	rp  *httputil.ReverseProxy
	log *slog.Logger
}

// New returns the proxy.
func New(cfg Config, log *slog.Logger) (*Proxy, error) {
	if cfg.Upstream == nil || (cfg.Upstream.Scheme != "http" && cfg.Upstream.Scheme != "https") || cfg.Upstream.Host == "" {
		return nil, errors.New("proxy: upstream must be an absolute http(s) URL")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	p := &Proxy{cfg: cfg, log: log}
	transport := &http.Transport{
		Proxy:                 nil, // never route API traffic through an environment proxy
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   128,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: cfg.Timeout,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     true,
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite:        p.rewrite,
		Transport:      transport,
		FlushInterval:  -1, // stream: flush every write (server-sent events, downloads)
		ErrorHandler:   p.upstreamError,
		ModifyResponse: guardResponse,
	}
	return p, nil
}

// ServeHTTP forwards r if it carries credentials; otherwise it refuses, so a
// wiring mistake can never send an unauthenticated call upstream.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, ok := application.UpstreamCredentialsFrom(r.Context()); !ok {
		http.Error(w, `{"error":{"code":"unauthenticated","message":"no valid session"}}`, http.StatusUnauthorized)
		return
	}
	p.rp.ServeHTTP(w, r)
}

// rewrite runs after ReverseProxy removed hop-by-hop headers and every
// incoming Forwarded/X-Forwarded-* header (that is why Rewrite is used and not
// Director: golang/go#50580).
func (p *Proxy) rewrite(pr *httputil.ProxyRequest) {
	creds, _ := application.UpstreamCredentialsFrom(pr.In.Context())
	out := pr.Out
	path := strings.TrimPrefix(pr.In.URL.Path, p.cfg.StripPrefix)
	if path == "" || path[0] != '/' {
		path = "/" + path
	}
	rawPath := ""
	if pr.In.URL.RawPath != "" {
		rawPath = strings.TrimPrefix(pr.In.URL.RawPath, p.cfg.StripPrefix)
	}
	out.URL = &url.URL{
		Scheme: p.cfg.Upstream.Scheme, Host: p.cfg.Upstream.Host,
		Path: joinPath(p.cfg.Upstream.Path, path), RawQuery: pr.In.URL.RawQuery,
	}
	if rawPath != "" {
		out.URL.RawPath = joinPath(p.cfg.Upstream.EscapedPath(), rawPath)
	}
	out.Host = p.cfg.Upstream.Host

	stripOwned(out.Header)
	stripAuthCookies(out.Header)
	out.Header.Set("Authorization", tokenType(creds.TokenType)+" "+creds.AccessToken)
	if creds.TenantID != "" {
		out.Header.Set("X-Tenant-ID", creds.TenantID)
	}
	if creds.OrganizationID != "" {
		out.Header.Set("X-Organization-ID", creds.OrganizationID)
	}
	if id := pr.In.Header.Get("X-Request-ID"); id != "" && safeToken(id) {
		out.Header.Set("X-Request-ID", id)
	}
	pr.SetXForwarded()
}

// guardResponse keeps the backend's answer from acting on authbff's origin:
// it may not set or clear authbff's cookies, browsers must not sniff a
// different content type, and an HTML answer is sandboxed so a script the
// backend reflects cannot run with the app's origin (and call
// /api/auth/token).
func guardResponse(resp *http.Response) error {
	var keep []string
	for _, c := range resp.Header.Values("Set-Cookie") {
		name, _, _ := strings.Cut(c, "=")
		if !isAuthCookie(strings.TrimSpace(name)) {
			keep = append(keep, c)
		}
	}
	resp.Header.Del("Set-Cookie")
	for _, c := range keep {
		resp.Header.Add("Set-Cookie", c)
	}
	resp.Header.Set("X-Content-Type-Options", "nosniff")
	if ct := strings.ToLower(resp.Header.Get("Content-Type")); ct == "" || strings.Contains(ct, "html") || strings.Contains(ct, "xml") {
		resp.Header.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	}
	return nil
}

// stripOwned deletes every header whose name, compared case-insensitively
// with '_' treated as '-', is one authbff owns.
func stripOwned(h http.Header) {
	for name := range h {
		norm := textproto.CanonicalMIMEHeaderKey(strings.ReplaceAll(name, "_", "-"))
		for _, owned := range ownedHeaders {
			if norm == textproto.CanonicalMIMEHeaderKey(owned) {
				delete(h, name)
			}
		}
	}
}

// stripAuthCookies removes authbff's cookies and keeps the others.
func stripAuthCookies(h http.Header) {
	lines := h.Values("Cookie")
	if len(lines) == 0 {
		return
	}
	var keep []string
	for _, line := range lines {
		for _, part := range strings.Split(line, ";") {
			part = strings.TrimSpace(part)
			name, _, _ := strings.Cut(part, "=")
			if part == "" || isAuthCookie(name) {
				continue
			}
			keep = append(keep, part)
		}
	}
	h.Del("Cookie")
	if len(keep) > 0 {
		h.Set("Cookie", strings.Join(keep, "; "))
	}
}

func isAuthCookie(name string) bool {
	for _, p := range authCookiePrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

func tokenType(t string) string {
	if t == "" || strings.EqualFold(t, "bearer") {
		return "Bearer"
	}
	return t
}

func joinPath(base, path string) string {
	return strings.TrimSuffix(base, "/") + path
}

func safeToken(s string) bool {
	if len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// upstreamError answers 504 on an upstream timeout and 502 otherwise, in the
// API error shape; the client's own cancellation is not logged as an error.
func (p *Proxy) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) {
		w.WriteHeader(499)
		return
	}
	status, code := http.StatusBadGateway, "upstream_unavailable"
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		status, code = http.StatusGatewayTimeout, "upstream_timeout"
	}
	p.log.WarnContext(r.Context(), "upstream request failed", "path", r.URL.Path, "error", err.Error())
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{"error":{"code":"` + code + `","message":"the backend API could not be reached"}}`))
}
