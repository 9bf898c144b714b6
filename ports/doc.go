// Package ports declares the interfaces the application layer needs from the
// outside world: storage, the identity provider, token encryption. They are
// owned by the application and named by role, never by technology.
//
// Import rule: domain and the standard library only. Value types that exist
// only to cross a port (SessionView, IdentitySync, ...) are declared here next
// to the interface that uses them. Every method documents its error contract.
package ports
