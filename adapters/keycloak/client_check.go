package keycloak

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// ErrBadClientCredentials means the IdP refused the client id or secret.
var ErrBadClientCredentials = errors.New("the identity provider refused the client id or secret")

// CheckClientCredentials asks the token endpoint for a client-credentials
// token, which tells apart a wrong secret (invalid_client) from a client that
// merely may not use that grant (unauthorized_client): both answers prove
// the IdP authenticated or refused the client. Used by `authbff validate`.
func (p *Provider) CheckClientCredentials(ctx context.Context) error {
	cc := clientcredentials.Config{ClientID: p.cfg.ClientID, ClientSecret: p.cfg.ClientSecret,
		TokenURL: p.oauth.Endpoint.TokenURL, AuthStyle: p.oauth.Endpoint.AuthStyle}
	ctx, cancel := context.WithTimeout(context.WithValue(ctx, oauth2.HTTPClient, p.client), p.cfg.Timeout)
	defer cancel()
	_, err := cc.Token(ctx)
	if err == nil {
		return nil
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		// Keycloak answers a wrong secret with unauthorized_client too, told
		// apart by its description ("Invalid client or Invalid client
		// credentials" vs "Client not enabled to retrieve service account").
		switch {
		case re.ErrorCode == "invalid_client", strings.Contains(strings.ToLower(re.ErrorDescription), "invalid client"):
			return ErrBadClientCredentials
		case re.ErrorCode == "unauthorized_client", re.ErrorCode == "unsupported_grant_type", re.ErrorCode == "invalid_scope":
			return nil // the client authenticated; the grant is just not enabled
		}
		return fmt.Errorf("token endpoint answered %d %s", re.Response.StatusCode, re.ErrorCode)
	}
	return unavailable(err)
}
