// Package fake holds in-memory implementations of the storage ports for
// application-layer unit tests. They keep the ports' contracts (the same
// test/contract suites run against them and against the real stores), so a
// use case tested on a fake behaves the same on PostgreSQL.
//
// Every fake is safe for concurrent use: a mutex guards its maps. Values
// cross the API as copies, and times are kept in UTC at microsecond
// precision, as the databases keep them.
package fake

import "time"

// micro normalises a time the way the databases store it.
func micro(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// cloneBytes copies b, keeping nil and empty apart from shared storage.
func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}
