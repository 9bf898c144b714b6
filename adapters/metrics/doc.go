// Package metrics exposes authbff's Prometheus metrics: the application's
// events (ports.Observer), the reverse proxy's requests and latency, the
// database pool, and the number of active sessions.
//
// Import rule: ports, prometheus/client_golang, the standard library, fx in
// module.go only.
package metrics
