package proxy

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"

	"github.com/authbff/authbff/adapters/httpshared"
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
	// PublicURL is AUTH_URL: X-Forwarded-Host and X-Forwarded-Proto come
	// from it, never from the client's Host header.
	PublicURL *url.URL
}

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
	if cfg.PublicURL == nil || cfg.PublicURL.Host == "" || (cfg.PublicURL.Scheme != "http" && cfg.PublicURL.Scheme != "https") {
		return nil, errors.New("proxy: the public URL (AUTH_URL) must be an absolute http(s) URL")
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
		httpshared.WriteError(w, http.StatusUnauthorized, "unauthenticated", "no valid session")
		return
	}
	// The router refuses %25 in proxied paths; a '%' left after decoding
	// means a double-encoded path reached the proxy anyway, which the
	// backend would decode once more (%252e%252e → %2e%2e → ..).
	if strings.Contains(r.URL.Path, "%") || strings.Contains(strings.ToLower(r.URL.RawPath), "%25") {
		httpshared.WriteError(w, http.StatusBadRequest, "invalid_path", "the path must not contain an encoded '%'")
		return
	}
	p.rp.ServeHTTP(w, r)
}

// rewrite runs after ReverseProxy removed hop-by-hop headers and every
// incoming Forwarded/X-Forwarded-* header (that is why Rewrite is used and not
// Director: golang/go#50580). It builds the outgoing request: the client's
// end-to-end headers minus every header that carries identity, tenancy,
// routing or client-address claims (sanitize), then authbff's own.
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

	sanitize(out.Header, pr.In.Header)
	out.Header.Set("Authorization", tokenType(creds.TokenType)+" "+creds.AccessToken)
	if creds.TenantID != "" {
		out.Header.Set("X-Tenant-ID", creds.TenantID)
	}
	if creds.OrganizationID != "" {
		out.Header.Set("X-Organization-ID", creds.OrganizationID)
	}
	meta, _ := httpshared.RequestFrom(pr.In.Context())
	if meta.ID == "" {
		meta.ID = httpshared.NewRequestID()
	}
	out.Header.Set(httpshared.RequestIDHeader, meta.ID)
	if meta.ClientIP == "" {
		meta.ClientIP, _, _ = net.SplitHostPort(pr.In.RemoteAddr)
	}
	if meta.ClientIP != "" {
		out.Header.Set("X-Forwarded-For", meta.ClientIP)
	}
	out.Header.Set("X-Forwarded-Host", p.cfg.PublicURL.Host)
	out.Header.Set("X-Forwarded-Proto", p.cfg.PublicURL.Scheme)
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
		if !httpshared.IsAuthCookie(name) {
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

func tokenType(t string) string {
	if t == "" || strings.EqualFold(t, "bearer") {
		return "Bearer"
	}
	return t
}

func joinPath(base, path string) string {
	return strings.TrimSuffix(base, "/") + path
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
	httpshared.WriteError(w, status, code, "the backend API could not be reached")
}
