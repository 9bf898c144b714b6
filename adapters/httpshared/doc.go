// Package httpshared holds what the two HTTP edges of authbff, the gin API
// (adapters/httpapi) and the reverse proxy (adapters/proxy), must agree on
// and so may not each define: the JSON error writer, the names of authbff's
// cookies, and the request id (with the client IP the router decided on).
// It is not an adapter: it has no state, and imports the standard library
// only, so both adapters may import it without importing each other.
package httpshared
