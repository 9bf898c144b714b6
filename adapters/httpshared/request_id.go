package httpshared

import (
	"context"
	"crypto/rand"
	"encoding/hex"
)

// RequestIDHeader carries the request id in responses and to the backend.
const RequestIDHeader = "X-Request-ID"

// The request id rule: authbff gives every request its own fresh random id,
// echoes it in the response, logs it and sends it to the backend. A
// client's X-Request-ID is never adopted nor forwarded, so no client can
// choose the id under which its request is logged here and upstream (forged
// or colliding correlation ids); a well-formed one is logged beside ours as
// client_request_id.

// NewRequestID returns a fresh request id: 24 hex characters.
func NewRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	var out [24]byte
	hex.Encode(out[:], b[:])
	return string(out[:])
}

// SafeClientRequestID reports whether a client's X-Request-ID may be logged:
// 1–64 characters of [A-Za-z0-9._-].
func SafeClientRequestID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
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

// Request is what the router decided about a request, for the proxy: its id
// and the client's IP as AUTH_TRUSTED_PROXIES allows it to be known.
type Request struct {
	ID       string
	ClientIP string
}

type requestKey struct{}

// WithRequest attaches r to ctx.
func WithRequest(ctx context.Context, r Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// RequestFrom returns the Request attached to ctx.
func RequestFrom(ctx context.Context) (Request, bool) {
	r, ok := ctx.Value(requestKey{}).(Request)
	return r, ok
}
