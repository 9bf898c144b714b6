package keycloak

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/authbff/authbff/domain"
)

func TestAdminURL(t *testing.T) {
	require.Equal(t, "https://kc.example.com/admin/realms/crm/organizations", adminURL("https://kc.example.com/realms/crm", "/organizations"))
	require.Equal(t, "https://kc.example.com/auth/admin/realms/crm/x", adminURL("https://kc.example.com/auth/realms/crm/", "/x"))
	require.Empty(t, adminURL("https://idp.example.com", "/organizations"), "not a Keycloak realm")
	require.Empty(t, adminURL("https://kc.example.com/realms/crm/extra", "/organizations"))
}

// TestDirectoryOutagesAreRememberedAndRetried covers what a real Keycloak
// does not do on demand: a 503 from the admin API is an outage
// (domain.ErrUnavailable), answered from memory for RetryAfter so token
// refreshes do not hammer a failing IdP, then retried.
func TestDirectoryOutagesAreRememberedAndRetried(t *testing.T) {
	var listings atomic.Int32
	var healthy atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/token":
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"access_token":"sa-token","token_type":"Bearer","expires_in":300}`))
		case "/admin/realms/crm/organizations":
			listings.Add(1)
			require.Equal(t, "Bearer sa-token", r.Header.Get("Authorization"))
			if !healthy.Load() {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			_, _ = w.Write([]byte(`[{"id":"kc-1","alias":"acme","name":"Acme","enabled":true,"attributes":{"tenant_id":["t-1"]}},
				{"id":"kc-2","alias":"off","name":"Off","enabled":false}]`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	now := time.Now()
	d := &Directory{listURL: adminURL(srv.URL+"/realms/crm", "/organizations"), client: srv.Client(),
		cc:  clientcredentials.Config{ClientID: "web_app", ClientSecret: "s", TokenURL: srv.URL + "/token"},
		cfg: DirectoryConfig{Now: func() time.Time { return now }}.withDefaults()}
	d.newTokens()
	ctx := context.Background()

	_, err := d.ByAlias(ctx, []string{"acme"})
	require.ErrorIs(t, err, domain.ErrUnavailable)
	healthy.Store(true)
	_, err = d.ByAlias(ctx, []string{"acme"})
	require.ErrorIs(t, err, domain.ErrUnavailable, "remembered for RetryAfter")
	require.EqualValues(t, 1, listings.Load())

	now = now.Add(61 * time.Second)
	got, err := d.ByAlias(ctx, []string{"acme", "off"})
	require.NoError(t, err)
	require.Equal(t, map[string]domain.Organization{"acme": {ExternalID: "kc-1", Alias: "acme", Name: "Acme", TenantID: "t-1"}}, got,
		"a disabled organization is left out, as Keycloak leaves it out of tokens")
	require.EqualValues(t, 2, listings.Load())

	// An unknown alias reloads the listing at most once per RetryAfter.
	_, err = d.ByAlias(ctx, []string{"new"})
	require.NoError(t, err)
	require.EqualValues(t, 2, listings.Load(), "the listing is fresh")
	now = now.Add(61 * time.Second)
	for range 3 {
		_, err = d.ByAlias(ctx, []string{"new"})
		require.NoError(t, err)
	}
	require.EqualValues(t, 3, listings.Load(), "one reload for three lookups")
}
