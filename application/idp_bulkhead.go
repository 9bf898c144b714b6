package application

import (
	"context"
	"fmt"

	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
)

// DefaultIdPMaxConcurrency is how many token requests (refreshes and code
// exchanges) one process sends to the IdP at once by default.
const DefaultIdPMaxConcurrency = 64

// BoundIdentityProvider wraps idp in a bulkhead: at most limit Exchange and
// Refresh calls run at once, and a call beyond that fails at once with
// domain.ErrUnavailable (503 with Retry-After) instead of queueing. A slow
// IdP then costs a bounded number of goroutines, sockets and refresh leases,
// and callers learn it in milliseconds instead of after the IdP timeout. A
// refused call sends nothing, so no refresh token is spent. limit < 1 means
// DefaultIdPMaxConcurrency.
func BoundIdentityProvider(idp ports.IdentityProvider, limit int) ports.IdentityProvider {
	if limit < 1 {
		limit = DefaultIdPMaxConcurrency
	}
	return &idpBulkhead{IdentityProvider: idp, slots: make(chan struct{}, limit)}
}

type idpBulkhead struct {
	ports.IdentityProvider
	slots chan struct{}
}

// enter takes a slot, or refuses at once when none is free.
func (b *idpBulkhead) enter() error {
	select {
	case b.slots <- struct{}{}:
		return nil
	default:
		return fmt.Errorf("%w: identity provider bulkhead full (%d calls in flight)", domain.ErrUnavailable, cap(b.slots))
	}
}

func (b *idpBulkhead) leave() { <-b.slots }

// Exchange implements ports.IdentityProvider within the bulkhead.
func (b *idpBulkhead) Exchange(ctx context.Context, code, pkceVerifier, redirectURI, nonce string) (ports.Identity, ports.TokenSet, error) {
	if err := b.enter(); err != nil {
		return ports.Identity{}, ports.TokenSet{}, err
	}
	defer b.leave()
	return b.IdentityProvider.Exchange(ctx, code, pkceVerifier, redirectURI, nonce)
}

// Refresh implements ports.IdentityProvider within the bulkhead.
func (b *idpBulkhead) Refresh(ctx context.Context, refreshToken, previousIDToken string) (ports.Identity, ports.TokenSet, error) {
	if err := b.enter(); err != nil {
		return ports.Identity{}, ports.TokenSet{}, err
	}
	defer b.leave()
	return b.IdentityProvider.Refresh(ctx, refreshToken, previousIDToken)
}
