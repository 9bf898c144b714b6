package keycloak_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/adapters/keycloak"
	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
	"github.com/authbff/authbff/test/testenv"
)

// realProvider is the adapter on a real Keycloak realm, as web_app.
func realProvider(t *testing.T, issuer string) *keycloak.Provider {
	t.Helper()
	p, err := keycloak.New(keycloak.Config{Issuer: issuer, ClientID: "web_app", ClientSecret: "web_app_secret", Timeout: 10 * time.Second},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	return p
}

// identityOf signs username in with the password grant (web_app allows it in
// the test realm) and reads the identity back through the adapter's Refresh,
// so the organization claim is parsed exactly as at a real refresh.
func identityOf(t *testing.T, p *keycloak.Provider, username string) ports.Identity {
	t.Helper()
	resp, err := http.PostForm(p.Issuer()+"/protocol/openid-connect/token", url.Values{
		"grant_type": {"password"}, "client_id": {"web_app"}, "client_secret": {"web_app_secret"},
		"username": {username}, "password": {username}, "scope": {"openid profile email organization:*"},
	})
	require.NoError(t, err)
	defer resp.Body.Close()
	var tok struct {
		RefreshToken string `json:"refresh_token"`
		IDToken      string `json:"id_token"`
	}
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&tok))
	id, _, err := p.Refresh(context.Background(), tok.RefreshToken, tok.IDToken)
	require.NoError(t, err)
	return id
}

// clock is a settable clock for the directory's cache.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestOrganizationClaimShapesAtKeycloak reads both shapes of the claim from
// a real Keycloak: the test realm's mapper adds ids ("Add organization id"
// on), Keycloak's default mapper gives aliases only. Ids are never made up.
func TestOrganizationClaimShapesAtKeycloak(t *testing.T) {
	issuer := testenv.RequireKeycloak(t)
	t.Run("mapper with ids", func(t *testing.T) {
		want := testenv.NewKeycloakAdmin(t, issuer).OrganizationIDs()
		id := identityOf(t, realProvider(t, issuer), "bob")
		require.Equal(t, []domain.Organization{
			{ExternalID: want["acme"], Alias: "acme", Name: "acme", TenantID: "tenant-acme"},
			{ExternalID: want["globex"], Alias: "globex", Name: "globex"},
		}, id.Organizations)
	})
	t.Run("default mapper: aliases only", func(t *testing.T) {
		realm := testenv.NewAliasOnlyRealm(t, issuer)
		id := identityOf(t, realProvider(t, realm.Issuer()), "bob")
		require.Equal(t, []domain.Organization{{Alias: "acme", Name: "acme"}, {Alias: "globex", Name: "globex"}}, id.Organizations,
			"no id, and none invented")
	})
}

// TestDirectoryAtKeycloak resolves aliases through Keycloak's admin API as
// the client's service account: refused without a service account, refused
// without the role, Keycloak's own ids and tenant_id with it.
func TestDirectoryAtKeycloak(t *testing.T) {
	issuer := testenv.RequireKeycloak(t)
	ctx := context.Background()

	t.Run("no service account", func(t *testing.T) {
		// The test realm's web_app has "Service accounts roles" off.
		_, err := keycloak.NewDirectory(realProvider(t, issuer), keycloak.DirectoryConfig{}).ByAlias(ctx, []string{"acme"})
		require.ErrorIs(t, err, ports.ErrDirectoryDenied)
		require.ErrorContains(t, err, "no service account")
	})

	t.Run("service account with and without the role", func(t *testing.T) {
		realm := testenv.NewAliasOnlyRealm(t, issuer)
		clk := &clock{now: time.Now()}
		dir := keycloak.NewDirectory(realProvider(t, realm.Issuer()), keycloak.DirectoryConfig{Now: clk.Now, PageSize: 1})

		_, err := dir.ByAlias(ctx, []string{"acme"})
		require.ErrorIs(t, err, ports.ErrDirectoryDenied)
		require.ErrorContains(t, err, "manage-realm", "the error names the missing role")

		// Granted now, but the refusal is remembered for RetryAfter, so a
		// realm that refuses is not asked on every refresh.
		realm.SetServiceAccountRole("web_app", "manage-realm", true)
		_, err = dir.ByAlias(ctx, []string{"acme"})
		require.ErrorIs(t, err, ports.ErrDirectoryDenied)

		clk.Add(2 * time.Minute)
		got, err := dir.ByAlias(ctx, []string{"acme", "globex", "initech"})
		require.NoError(t, err)
		want := realm.OrganizationIDs()
		require.Equal(t, map[string]domain.Organization{
			"acme":   {ExternalID: want["acme"], Alias: "acme", Name: "Acme", TenantID: "tenant-acme"},
			"globex": {ExternalID: want["globex"], Alias: "globex", Name: "Globex"},
		}, got, "Keycloak's ids, read over pages of one; an unknown alias is absent")

		// Cached: an organization created meanwhile is not seen at once; an
		// alias the listing lacks reloads it once it is older than
		// RetryAfter, before the TTL ends.
		status, body := realm.Do(http.MethodPost, "/organizations", map[string]any{"name": "Initech", "alias": "initech", "enabled": true})
		require.Equal(t, http.StatusCreated, status, string(body))
		again, err := dir.ByAlias(ctx, []string{"acme", "initech"})
		require.NoError(t, err)
		require.Equal(t, want["acme"], again["acme"].ExternalID)
		require.NotContains(t, again, "initech", "the listing is cached")
		clk.Add(61 * time.Second)
		again, err = dir.ByAlias(ctx, []string{"initech"})
		require.NoError(t, err)
		require.Equal(t, realm.OrganizationIDs()["initech"], again["initech"].ExternalID)
		require.NotEmpty(t, again["initech"].ExternalID)
	})
}
