package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/test/authjsclient"
	"github.com/authbff/authbff/test/testenv"
)

// missingIDsWarning is the start of the one warning authbff logs when
// organization ids stay unknown.
const missingIDsWarning = "organization ids unknown: the organization claim names organizations by alias only"

// proxyGet calls the backend through authbff with the session cookie, with a
// spoofed X-Organization-ID that must never get through.
func proxyGet(t *testing.T, b *bff, c *authjsclient.Client) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.Base+"/api/proxy/customers", nil)
	req.Header.Set("X-Organization-ID", "spoofed")
	resp, err := withCookie(b.Base, sessionCookie(t, c, b.Base)).Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// requireKnownOrganizationIDs checks that every X-Organization-ID that
// reached the backend is one of Keycloak's real organization ids.
func requireKnownOrganizationIDs(t *testing.T, up *upstreamRecorder, known map[string]string) []string {
	t.Helper()
	valid := map[string]bool{}
	for _, id := range known {
		valid[id] = true
	}
	var sent []string
	for _, h := range up.headers() {
		for _, v := range h.Values("X-Organization-ID") {
			require.True(t, valid[v], "X-Organization-ID %q is not a Keycloak organization id (%v)", v, known)
		}
		sent = append(sent, h.Get("X-Organization-ID"))
	}
	return sent
}

func sessionOrgIDs(t *testing.T, s map[string]any) map[string]any {
	t.Helper()
	out := map[string]any{}
	for _, o := range s["organizations"].([]any) {
		m := o.(map[string]any)
		out[m["alias"].(string)] = m["id"]
	}
	return out
}

// TestAliasOnlyOrganizationClaimWithoutAdminAccess: Keycloak's default
// organization mapper (aliases, no ids) and a service account without the
// role. authbff sends no X-Organization-ID rather than one Keycloak does not
// know, the session shows no id, switching works by alias, one warning names
// the mapper setting, and `validate` reports it.
func TestAliasOnlyOrganizationClaimWithoutAdminAccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	realm := testenv.NewAliasOnlyRealm(t, issuer)
	known := realm.OrganizationIDs()
	up := newUpstream(t)
	extra := map[string]string{"AUTH_KEYCLOAK_ISSUER": realm.Issuer(), "BACKEND_API_URL": up.srv.URL + "/api"}
	b := e.start("", extra)

	c := authjsclient.New(b.Base)
	_, err := c.SignInKeycloak("bob", "bob", b.Base+"/")
	require.NoError(t, err)
	s, _, err := c.Session()
	require.NoError(t, err)
	require.Equal(t, map[string]any{"acme": nil, "globex": nil}, sessionOrgIDs(t, s), "no id rather than an invented one")
	require.Equal(t, "acme", s["activeOrganization"].(map[string]any)["alias"])
	proxyGet(t, b, c)

	s, resp, err := c.Update(map[string]any{"organizationId": "globex"})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.Status, "an organization without id is switched to by alias")
	require.Equal(t, "globex", s["activeOrganization"].(map[string]any)["alias"])
	proxyGet(t, b, c)

	sent := requireKnownOrganizationIDs(t, up, known)
	require.Equal(t, []string{"", ""}, sent, "no X-Organization-ID at all, the spoofed one included")
	var tenants []string
	for _, h := range up.headers() {
		tenants = append(tenants, h.Get("X-Tenant-ID"))
	}
	require.Equal(t, []string{"acme", "globex"}, tenants, "the alias stays the tenant key")
	require.Equal(t, 2, e.count(`SELECT count(*) FROM organizations WHERE external_id IS NULL`))

	// A second sign-in: still one warning in this process.
	alice := authjsclient.New(b.Base)
	_, err = alice.SignInKeycloak("alice", "alice", b.Base+"/")
	require.NoError(t, err)
	logs := b.logs.String()
	require.Equal(t, 1, strings.Count(logs, missingIDsWarning), logs)
	require.Contains(t, logs, "Add organization id")
	require.Contains(t, logs, "manage-realm")

	out, err := e.command(map[string]string{"AUTH_KEYCLOAK_ISSUER": realm.Issuer()}, "validate").CombinedOutput()
	require.NoError(t, err, "a warning, not a failure: %s", out)
	require.Contains(t, string(out), "warn organization ids: the organization claim carries none (2 stored organizations have no Keycloak id")
	require.Contains(t, string(out), `turn "Add organization id" on`)
	require.Contains(t, string(out), "manage-realm")
}

// TestAliasOnlyOrganizationClaimResolvedThroughTheAdminAPI: the same default
// mapper, with the service account granted manage-realm: the session and
// the backend get Keycloak's real organization ids, and tenant_id from the
// organization's attributes.
func TestAliasOnlyOrganizationClaimResolvedThroughTheAdminAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	realm := testenv.NewAliasOnlyRealm(t, issuer)
	realm.SetServiceAccountRole("web_app", "manage-realm", true)
	known := realm.OrganizationIDs()
	up := newUpstream(t)
	b := e.start("", map[string]string{"AUTH_KEYCLOAK_ISSUER": realm.Issuer(), "BACKEND_API_URL": up.srv.URL + "/api"})

	c := authjsclient.New(b.Base)
	_, err := c.SignInKeycloak("bob", "bob", b.Base+"/")
	require.NoError(t, err)
	s, _, err := c.Session()
	require.NoError(t, err)
	require.Equal(t, map[string]any{"acme": known["acme"], "globex": known["globex"]}, sessionOrgIDs(t, s))
	active := s["activeOrganization"].(map[string]any)
	require.Equal(t, "tenant-acme", active["tenantId"], "tenant_id from the organization's attributes")
	proxyGet(t, b, c)

	s, resp, err := c.Update(map[string]any{"organizationId": known["globex"]})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.Status)
	require.Equal(t, "globex", s["activeOrganization"].(map[string]any)["alias"])
	proxyGet(t, b, c)

	require.Equal(t, []string{known["acme"], known["globex"]}, requireKnownOrganizationIDs(t, up, known))
	require.Equal(t, "tenant-acme", up.headers()[0].Get("X-Tenant-ID"))
	require.NotContains(t, b.logs.String(), missingIDsWarning)

	out, err := e.command(map[string]string{"AUTH_KEYCLOAK_ISSUER": realm.Issuer()}, "validate").CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), "ok   organization ids: Keycloak's admin API resolves organization aliases (2 organizations")
}

// TestValidateSeesOrganizationIDsFromTheClaim: with the test realm's mapper
// ("Add organization id" on) and no service account, the ids come in the
// claim, and `validate` says so from the stored organizations.
func TestValidateSeesOrganizationIDsFromTheClaim(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.start("", nil)
	_, err := authjsclient.New(b.Base).SignInKeycloak("bob", "bob", b.Base+"/")
	require.NoError(t, err)
	out, err := e.command(nil, "validate").CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), "ok   organization ids: the organization claim carries them (all 2 stored organizations have Keycloak's id")
	require.NotContains(t, b.logs.String(), missingIDsWarning)
}
