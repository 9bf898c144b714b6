// Package store implements the storage ports with bun, on PostgreSQL
// (pgdialect over pgx; production) and SQLite (sqlitedialect over the pure-Go
// modernc driver; the embedded default).
//
// Row structs are private to this package and carry the bun tags; the domain
// stays tagless. Driver errors are translated to domain sentinels in one place
// (mapError), and every operation is bounded by the configured timeout.
//
// Import rule: domain, ports, migrations, bun and its dialects and drivers,
// fx in module.go only. Never application, gin or another adapter.
package store
