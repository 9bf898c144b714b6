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
// decide, into the request context for the proxy.
func requestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := httpshared.NewRequestID()
		c.Set(requestIDHeader, id)
		c.Header(requestIDHeader, id)
		c.Request = c.Request.WithContext(httpshared.WithRequest(c.Request.Context(),
			httpshared.Request{ID: id, ClientIP: c.ClientIP()}))
		c.Next()
	}
}

// accessLog writes one JSON line per request. It logs the path without the
// query string, because Auth.js callbacks carry the authorization code there.
func accessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		attrs := []any{
			"request_id", c.GetString(requestIDHeader),
			"method", c.Request.Method,
			"path", c.Request.URL.Path,
			"status", c.Writer.Status(),
			"duration_ms", float64(time.Since(start).Microseconds()) / 1000,
			"client_ip", c.ClientIP(),
			"bytes", c.Writer.Size(),
		}
		if cid := c.Request.Header.Get(requestIDHeader); httpshared.SafeClientRequestID(cid) {
			attrs = append(attrs, "client_request_id", cid)
		}
		if len(c.Errors) > 0 {
			attrs = append(attrs, "error", c.Errors.Last().Error())
		}
		level := slog.LevelInfo
		if c.Writer.Status() >= 500 {
			level = slog.LevelError
		}
		log.Log(c.Request.Context(), level, "request", attrs...)
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
				log.ErrorContext(c.Request.Context(), "panic in handler", "request_id", c.GetString(requestIDHeader),
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
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "frame-ancestors 'none'")
		h.Set("Referrer-Policy", "no-referrer")
		if hsts {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		c.Next()
	}
}

// bodyDeadline bounds how long a client may take to send a request body on
// authbff's own routes (the proxy streams uploads and is exempt), so a slow
// client cannot hold a connection and a goroutine forever.
func bodyDeadline(d time.Duration) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !strings.HasPrefix(c.Request.URL.Path, ProxyPrefix+"/") {
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
