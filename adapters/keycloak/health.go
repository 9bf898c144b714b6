package keycloak

import (
	"context"
	"fmt"
	"net/http"

	"github.com/authbff/authbff/domain"
)

// Health reports whether the identity provider's discovery document answers.
type Health struct{ p *Provider }

// NewHealth returns the IdP health check.
func NewHealth(p *Provider) *Health { return &Health{p: p} }

// Name implements ports.HealthCheck.
func (h *Health) Name() string { return "idp" }

// Check implements ports.HealthCheck: the discovery document answers 200.
func (h *Health) Check(ctx context.Context) error {
	p := h.p
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.discoveryURL, nil)
	if err != nil {
		return err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return unavailable(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: discovery answered %d", domain.ErrUnavailable, resp.StatusCode)
	}
	return nil
}
