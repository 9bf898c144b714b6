package httpapi

import "net/http"

// fixedHeaders are response headers whose values never change. Every
// answer carries several of them, so they are set under their canonical
// names with shared values: http.Header.Set would canonicalise the name and
// allocate a slice each time. Nothing changes a header value in place, and
// an Add to one of them appends to a copy (each slice is full).
type fixedHeader struct {
	name  string
	value []string
}

func fixed(name, value string) fixedHeader {
	return fixedHeader{name: http.CanonicalHeaderKey(name), value: []string{value}}
}

func (f fixedHeader) set(h http.Header) { h[f.name] = f.value }

var (
	hdrNoSniff    = fixed("X-Content-Type-Options", "nosniff")
	hdrFrameDeny  = fixed("X-Frame-Options", "DENY")
	hdrCSPDefault = fixed("Content-Security-Policy", "frame-ancestors 'none'")
	hdrNoReferrer = fixed("Referrer-Policy", "no-referrer")
	hdrHSTS       = fixed("Strict-Transport-Security", "max-age=31536000")

	hdrNoStore  = fixed("Cache-Control", "private, no-cache, no-store")
	hdrExpires0 = fixed("Expires", "0")
	hdrNoCache  = fixed("Pragma", "no-cache")

	hdrJSON = fixed("Content-Type", "application/json")
)
