// Package application holds authbff's use cases, one file each. A use case is
// a command or query struct named for what it does (CleanupSessions), a
// handler holding the ports it needs (CleanupSessionsHandler), a constructor
// (NewCleanupSessionsHandler) and a Handle method.
//
// Handlers are concrete structs: the HTTP adapter and the CLI call them
// directly, and tests build them by hand with the fakes in test/fake.
//
// Import rule: domain, ports and the standard library (log/slog included).
// Never adapters, gin, bun, go-oidc, x/oauth2 or fx.
package application

import "time"

// Clock returns the current time. Handlers take one so tests control time.
type Clock func() time.Time

// SystemClock is the real clock, in UTC.
func SystemClock() time.Time { return time.Now().UTC() }
