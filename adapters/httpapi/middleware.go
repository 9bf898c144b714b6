package httpapi

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/authbff/authbff/adapters/httpshared"
)

const requestIDHeader = httpshared.RequestIDHeader

// requestID gives every request authbff's own fresh id (the rule and why a
// client's id is not adopted: httpshared.NewRequestID), echoes it in the
// response and puts it, with the client IP the trusted-proxy settings
// decide, into the request context for the proxy and the access log. Both
// are computed once here: every request pays for this middleware.
func requestID(forwardedClientIP bool) gin.HandlerFunc {
	idKey := http.CanonicalHeaderKey(requestIDHeader)
	return func(c *gin.Context) {
		meta := httpshared.Request{ID: httpshared.NewRequestID(), ClientIP: resolveClientIP(c, forwardedClientIP)}
		c.Writer.Header()[idKey] = []string{meta.ID}
		c.Request = c.Request.WithContext(httpshared.WithRequest(c.Request.Context(), meta))
		c.Next()
	}
}

// resolveClientIP is gin's c.ClientIP(), which the trusted-proxy settings
// decide. Without trusted proxies it is the socket peer, and an IPv4 peer is
// already in the form gin would print, so it is used as it stands.
func resolveClientIP(c *gin.Context, forwarded bool) string {
	if !forwarded {
		if ip := c.RemoteIP(); ip != "" && strings.Trim(ip, "0123456789.") == "" && net.ParseIP(ip) != nil {
			return ip
		}
	}
	return c.ClientIP()
}

// requestIDOf returns the id requestID gave the request.
func requestIDOf(c *gin.Context) string {
	meta, _ := httpshared.RequestFrom(c.Request.Context())
	return meta.ID
}

// accessLog writes one JSON line per request. It logs the path without the
// query string, because Auth.js callbacks carry the authorization code there.
// This runs on every request, so the record goes straight to the handler:
// typed attributes, no boxing, and no caller lookup (Logger.LogAttrs walks
// the stack for a source location the handler does not print).
func accessLog(log *slog.Logger) gin.HandlerFunc {
	h := log.Handler()
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		status := c.Writer.Status()
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		ctx := c.Request.Context()
		if !h.Enabled(ctx, level) {
			return
		}
		meta, _ := httpshared.RequestFrom(ctx)
		end := time.Now()
		rec := slog.NewRecord(end, level, "request", 0)
		rec.AddAttrs(
			slog.String("request_id", meta.ID),
			slog.String("method", c.Request.Method),
			slog.String("path", c.Request.URL.Path),
			slog.Int("status", status),
			slog.Float64("duration_ms", float64(end.Sub(start).Microseconds())/1000),
			slog.String("client_ip", meta.ClientIP),
			slog.Int("bytes", c.Writer.Size()),
		)
		if cid := c.Request.Header.Get(requestIDHeader); httpshared.SafeClientRequestID(cid) {
			rec.AddAttrs(slog.String("client_request_id", cid))
		}
		if len(c.Errors) > 0 {
			rec.AddAttrs(slog.String("error", c.Errors.Last().Error()))
		}
		_ = h.Handle(ctx, rec)
	}
}

// recovery turns a panic into a JSON 500 without a stack trace in the
// response; the panic value is logged.
func recovery(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				if err, ok := r.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(r)
				}
				log.ErrorContext(c.Request.Context(), "panic in handler", "request_id", requestIDOf(c),
					"panic", fmt.Sprint(r))
				respondCode(c, http.StatusInternalServerError, "internal", "internal error")
			}
		}()
		c.Next()
	}
}

// securityHeaders sets the headers every authbff page and JSON answer gets
// (not proxied answers: the backend owns those, the proxy guards them).
// HSTS only over https.
func securityHeaders(cfg Config) gin.HandlerFunc {
	hsts := cfg.Secure()
	return func(c *gin.Context) {
		if strings.HasPrefix(c.Request.URL.Path, ProxyPrefix+"/") {
			c.Next()
			return
		}
		h := c.Writer.Header()
		hdrNoSniff.set(h)
		hdrFrameDeny.set(h)
		hdrCSPDefault.set(h)
		hdrNoReferrer.set(h)
		if hsts {
			hdrHSTS.set(h)
		}
		c.Next()
	}
}

// bodyDeadline bounds how long a client may take to send a request body on
// authbff's own routes (the proxy streams uploads and is exempt), so a slow
// client cannot hold a connection and a goroutine forever.
func bodyDeadline(d time.Duration) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.Body != http.NoBody && !strings.HasPrefix(c.Request.URL.Path, ProxyPrefix+"/") {
			_ = http.NewResponseController(c.Writer).SetReadDeadline(time.Now().Add(d))
		}
		c.Next()
	}
}

// metricsGuard lets Prometheus in: with a token configured, a matching
// bearer token; without one, loopback clients only (the socket peer, never
// a forwarded header).
func metricsGuard(token string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if token != "" {
			got := strings.TrimPrefix(c.GetHeader("Authorization"), "Bearer ")
			if subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1 {
				c.Next()
				return
			}
		} else if host, _, err := net.SplitHostPort(c.Request.RemoteAddr); err == nil {
			if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
				c.Next()
				return
			}
		}
		respondCode(c, http.StatusForbidden, "forbidden", "metrics need the metrics token")
	}
}
