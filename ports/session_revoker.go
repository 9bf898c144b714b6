package ports

import "context"

// SessionRevoker ends sessions by what the identity provider knows about
// them, for back-channel logout.
type SessionRevoker interface {
	// DeleteByProviderSession removes every session created by the IdP
	// session (provider, sid) and returns how many it removed (0 is not an
	// error: the user may have signed out already).
	DeleteByProviderSession(ctx context.Context, provider, providerSessionID string) (int64, error)
	// DeleteByProviderSubject removes every session of the user linked to
	// (provider, subject) and returns how many it removed.
	DeleteByProviderSubject(ctx context.Context, provider, subject string) (int64, error)
}
