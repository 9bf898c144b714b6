// Package proxy is the reverse proxy to the backend API (/api/proxy/*). It
// is a plain http.Handler built on httputil.ReverseProxy with Rewrite: the
// HTTP adapter authenticates the caller and attaches
// application.UpstreamCredentials to the request context; this package
// forwards the request with exactly one Authorization, X-Tenant-ID and
// X-Organization-ID, all from those credentials, whatever the client sent,
// and none of the client's identity, tenancy, client-address or original-URL
// headers in any spelling (headers.go).
//
// Import rule: application (for the credentials type), httpshared (the error
// writer, cookie names and request id it shares with httpapi), the standard
// library, fx in module.go only. Never gin, bun, ports or another adapter.
package proxy
