// Package contract holds the conformance suites of the storage ports. Every
// implementation of a port (the bun store on PostgreSQL and on SQLite, and the
// in-memory fakes in test/fake) runs the same suite, so the fakes that
// application tests rely on cannot drift from the real stores.
//
// A suite is an exported function taking the test and a constructor of a
// fresh Env (kratos TestPersister, oauth2-proxy RunSessionStoreTests):
//
//	contract.SessionStore(t, func(t *testing.T) contract.Env { ... })
//
// Each case calls newEnv itself and runs in parallel with the others, so
// newEnv must return stores on a database no other case uses.
package contract
