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
	"github.com/authbff/authbff/adapters/logging"
)

const requestIDHeader = httpshared.RequestIDHeader

// requestIDKey is requestIDHeader as net/http stores it: looking it up under
// this key skips canonicalising (and allocating) the name on every request.
var requestIDKey = http.CanonicalHeaderKey(requestIDHeader)

// requestID gives every request authbff's own fresh id (the rule and why a
// client's id is not adopted: httpshared.NewRequestID), echoes it in the
// response and puts it, with the client IP the trusted-proxy settings
// decide, into the request context for the proxy and the access log. Both
// are computed once here: every request pays for this middleware.
func requestID(forwardedClientIP bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		meta := httpshared.Request{ID: httpshared.NewRequestID(), ClientIP: resolveClientIP(c, forwardedClientIP)}
		c.Writer.Header()[requestIDKey] = []string{meta.ID}
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
// Every request pays for it, so the line goes through logging.WriteAccess:
// built by hand on authbff's own logger, through slog otherwise.
func accessLog(log *slog.Logger) gin.HandlerFunc {
	h := log.Handler()
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		ctx := c.Request.Context()
		meta, _ := httpshared.RequestFrom(ctx)
		end := time.Now()
		a := logging.Access{
			Time: end, Level: slog.LevelInfo, RequestID: meta.ID, Method: c.Request.Method,
			Path: c.Request.URL.Path, Status: c.Writer.Status(), Duration: end.Sub(start),
			ClientIP: meta.ClientIP, Bytes: c.Writer.Size(),
		}
		if a.Status >= 500 {
			a.Level = slog.LevelError
		}
		if cid := c.Request.Header[requestIDKey]; len(cid) > 0 && httpshared.SafeClientRequestID(cid[0]) {
			a.ClientRequestID = cid[0]
		}
		if len(c.Errors) > 0 {
			a.Error = c.Errors.Last().Error()
		}
		logging.WriteAccess(ctx, h, a)
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
