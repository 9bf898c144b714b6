package testenv

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// RequireKeycloak returns the issuer of the test realm (TEST_KEYCLOAK_ISSUER,
// which `make test` sets by starting a throwaway Keycloak). When it is unset
// the test is skipped, except under CI=true where that is a failure.
func RequireKeycloak(t testing.TB) string {
	t.Helper()
	iss := os.Getenv("TEST_KEYCLOAK_ISSUER")
	if iss == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("TEST_KEYCLOAK_ISSUER is not set under CI=true: run the tests with `make test`")
		}
		t.Skip("TEST_KEYCLOAK_ISSUER not set: run `make test` to start Keycloak")
	}
	return iss
}

// KeycloakAdmin calls Keycloak's admin REST API as the bootstrap admin
// (admin/admin, as test/scripts/keycloak.sh starts it) on one realm.
type KeycloakAdmin struct {
	t      testing.TB
	Server string // http://127.0.0.1:PORT
	Realm  string
}

// NewKeycloakAdmin returns an admin client for the realm of issuer.
func NewKeycloakAdmin(t testing.TB, issuer string) *KeycloakAdmin {
	i := strings.LastIndex(issuer, "/realms/")
	require.Positive(t, i, "issuer %s is not a Keycloak realm URL", issuer)
	return &KeycloakAdmin{t: t, Server: issuer[:i], Realm: issuer[i+len("/realms/"):]}
}

// Issuer is the realm's issuer URL.
func (k *KeycloakAdmin) Issuer() string { return k.Server + "/realms/" + k.Realm }

// token gets a fresh admin token (master realm tokens live 60 s).
func (k *KeycloakAdmin) token() string {
	k.t.Helper()
	resp, err := http.PostForm(k.Server+"/realms/master/protocol/openid-connect/token", url.Values{
		"grant_type": {"password"}, "client_id": {"admin-cli"}, "username": {"admin"}, "password": {"admin"},
	})
	require.NoError(k.t, err)
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(k.t, json.NewDecoder(resp.Body).Decode(&body))
	require.NotEmpty(k.t, body.AccessToken)
	return body.AccessToken
}

// Do calls path under /admin/realms/<realm> ("" for the realm itself) and
// returns the status and body.
func (k *KeycloakAdmin) Do(method, path string, body any) (int, []byte) {
	k.t.Helper()
	return k.do(method, k.Server+"/admin/realms/"+k.Realm+path, body)
}

func (k *KeycloakAdmin) do(method, u string, body any) (int, []byte) {
	k.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(k.t, err)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, r)
	require.NoError(k.t, err)
	req.Header.Set("Authorization", "Bearer "+k.token())
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(k.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// OrganizationIDs returns Keycloak's organization ids by alias: the truth
// tests compare X-Organization-ID and the session's ids against.
func (k *KeycloakAdmin) OrganizationIDs() map[string]string {
	k.t.Helper()
	status, body := k.Do(http.MethodGet, "/organizations?max=1000", nil)
	require.Equal(k.t, http.StatusOK, status, string(body))
	var orgs []struct{ ID, Alias string }
	require.NoError(k.t, json.Unmarshal(body, &orgs))
	out := map[string]string{}
	for _, o := range orgs {
		out[o.Alias] = o.ID
	}
	return out
}

// clientUUID returns the internal id of the client with clientID.
func (k *KeycloakAdmin) clientUUID(clientID string) string {
	k.t.Helper()
	status, body := k.Do(http.MethodGet, "/clients?clientId="+url.QueryEscape(clientID), nil)
	require.Equal(k.t, http.StatusOK, status, string(body))
	var cs []struct{ ID string }
	require.NoError(k.t, json.Unmarshal(body, &cs))
	require.Len(k.t, cs, 1, "client %s", clientID)
	return cs[0].ID
}

// SetServiceAccountRole grants (on) or revokes (off) a realm-management role
// to clientID's service account.
func (k *KeycloakAdmin) SetServiceAccountRole(clientID, role string, on bool) {
	k.t.Helper()
	status, body := k.Do(http.MethodGet, "/clients/"+k.clientUUID(clientID)+"/service-account-user", nil)
	require.Equal(k.t, http.StatusOK, status, string(body))
	var sa struct{ ID string }
	require.NoError(k.t, json.Unmarshal(body, &sa))
	rm := k.clientUUID("realm-management")
	status, body = k.Do(http.MethodGet, "/clients/"+rm+"/roles/"+role, nil)
	require.Equal(k.t, http.StatusOK, status, string(body))
	var r map[string]any
	require.NoError(k.t, json.Unmarshal(body, &r))
	method := http.MethodPost
	if !on {
		method = http.MethodDelete
	}
	status, body = k.Do(method, "/users/"+sa.ID+"/role-mappings/clients/"+rm, []any{r})
	require.Equal(k.t, http.StatusNoContent, status, string(body))
}

// NewAliasOnlyRealm creates a realm like the test realm
// (test/keycloak/crm-realm.json: clients, users, roles, organizations) but
// with Keycloak's built-in client scopes, so its organization claim comes
// from Keycloak's DEFAULT "Organization Membership" mapper ("Add organization
// id" off: aliases only). Its ids are Keycloak's own (none pinned), and its
// web_app client has a service account without roles. The realm is deleted
// when the test ends. A realm of its own, rather than a switch of the shared
// realm's mapper, so tests running at the same time are not affected.
func NewAliasOnlyRealm(t testing.TB, issuer string) *KeycloakAdmin {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	raw, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "keycloak", "crm-realm.json"))
	require.NoError(t, err)
	// Placeholders are resolved by Keycloak's file import only: use their defaults.
	raw = regexp.MustCompile(`\$\{[A-Z_]+:([^}]*)\}`).ReplaceAll(raw, []byte("$1"))
	var realm map[string]any
	require.NoError(t, json.Unmarshal(raw, &realm))
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	name := "crm-aliases-" + hex.EncodeToString(suffix)
	realm["realm"] = name
	for _, k := range []string{"clientScopes", "defaultDefaultClientScopes", "defaultOptionalClientScopes", "scopeMappings"} {
		delete(realm, k)
	}
	for _, key := range []string{"users", "organizations"} { // ids are unique across realms
		for _, v := range realm[key].([]any) {
			delete(v.(map[string]any), "id")
		}
	}
	for _, v := range realm["clients"].([]any) {
		c := v.(map[string]any)
		if c["clientId"] == "web_app" {
			c["serviceAccountsEnabled"] = true
			delete(c["attributes"].(map[string]any), "backchannel.logout.url") // no authbff listens for this realm
		}
	}
	k := &KeycloakAdmin{t: t, Server: NewKeycloakAdmin(t, issuer).Server, Realm: name}
	status, body := k.do(http.MethodPost, k.Server+"/admin/realms", realm)
	require.Equal(t, http.StatusCreated, status, string(body))
	t.Cleanup(func() {
		if status, body := k.Do(http.MethodDelete, "", nil); status != http.StatusNoContent {
			t.Logf("delete realm %s: %d %s", name, status, body)
		}
	})
	return k
}
