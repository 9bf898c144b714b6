package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// MaxHeaderBytes is the most request header bytes authbff accepts: the sum,
// over every header field line including Host, of len(name) + len(": ") +
// len(value) + len("\r\n"). The server's http.Server.MaxHeaderBytes is set to
// the same figure, but Go allows 4096 bytes beyond it (and counts the
// request line), so the exact bound is enforced by headerLimit.
const MaxHeaderBytes = 64 << 10

// maxAuthFields caps the fields of an authbff request body (form fields or
// top-level JSON keys): Auth.js's POSTs carry a handful, the form_post
// callback four.
const maxAuthFields = 64

// errHeadersTooLarge and errBodyTooLarge are the bounds' refusals.
var (
	errHeadersTooLarge = errors.New("request headers too large")
	errBodyTooLarge    = errors.New("request body too large")
)

// headerBytes is the request's header size as MaxHeaderBytes defines it.
func headerBytes(r *http.Request) int {
	n := len("Host: \r\n") + len(r.Host)
	for name, vals := range r.Header {
		for _, v := range vals {
			n += len(name) + len(": \r\n") + len(v)
		}
	}
	return n
}

// headerLimit answers 431 to a request whose headers exceed MaxHeaderBytes,
// on every route (the proxy's included), before anything reads them.
func headerLimit() gin.HandlerFunc {
	return func(c *gin.Context) {
		if headerBytes(c.Request) > MaxHeaderBytes {
			respondError(c, errHeadersTooLarge)
			return
		}
		c.Next()
	}
}

// bodyLimit reads the body of every request to authbff's own routes (not
// the proxy: uploads stream to the backend) and refuses it with 413, before
// any handler parses it, when it exceeds maxAuthBody or carries more than
// maxAuthFields fields. A cut body is never parsed: a truncated form would
// parse as a smaller, different request. The handler then reads the buffered
// body.
func (a *authAPI) bodyLimit() gin.HandlerFunc {
	return func(c *gin.Context) {
		r := c.Request
		if r.Body == nil || r.Body == http.NoBody || strings.HasPrefix(r.URL.Path, ProxyPrefix+"/") {
			c.Next()
			return
		}
		if r.ContentLength > maxAuthBody {
			a.refuseBody(c)
			return
		}
		raw, err := io.ReadAll(io.LimitReader(r.Body, maxAuthBody+1))
		_ = r.Body.Close()
		if err != nil {
			respondCode(c, http.StatusBadRequest, "invalid_request", "the request body could not be read")
			return
		}
		if len(raw) > maxAuthBody || fieldCount(r.Header.Get("Content-Type"), raw) > maxAuthFields {
			a.refuseBody(c)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(raw))
		r.ContentLength = int64(len(raw))
		c.Next()
	}
}

// fieldCount counts form fields or top-level JSON keys; other bodies count 0.
func fieldCount(contentType string, raw []byte) int {
	ct, _, _ := mime.ParseMediaType(contentType)
	switch ct {
	case "application/x-www-form-urlencoded":
		n := 0
		for _, part := range bytes.Split(raw, []byte("&")) {
			if len(part) > 0 {
				n++
			}
		}
		return n
	case "application/json":
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) == nil {
			return len(m)
		}
	}
	return 0
}

// refuseBody answers 413 in the route's shape.
func (a *authAPI) refuseBody(c *gin.Context) {
	_ = c.Error(errBodyTooLarge)
	c.Header("Connection", "close") // the rest of the body is not read
	c.Header("Cache-Control", "no-store")
	if a.isAuthJSRoute(c.Request.URL.Path) {
		a.refuseAuthJS(c, http.StatusRequestEntityTooLarge, "Configuration")
		return
	}
	respondError(c, errBodyTooLarge)
}
