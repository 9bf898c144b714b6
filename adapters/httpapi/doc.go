// Package httpapi is the driving HTTP adapter: gin routes and handlers, the
// Auth.js-compatible /api/auth surface, cookies, CSRF, JSON shapes, and the one
// mapping from errors to HTTP statuses (errors.go).
//
// Import rule: application, domain, gin, the standard library, fx in
// module.go only. Never ports (handlers go through use cases), bun, go-oidc or
// another adapter; the reverse proxy arrives as a plain http.Handler.
package httpapi
