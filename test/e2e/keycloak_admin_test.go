package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// kcAdmin calls Keycloak's admin REST API as the bootstrap admin.
type kcAdmin struct {
	t    *testing.T
	base string // http://127.0.0.1:PORT
}

func newKCAdmin(t *testing.T) *kcAdmin {
	return &kcAdmin{t: t, base: strings.TrimSuffix(issuer, "/realms/crm")}
}

// token gets a fresh admin token (they live 60 s).
func (k *kcAdmin) token() string {
	k.t.Helper()
	resp, err := http.PostForm(k.base+"/realms/master/protocol/openid-connect/token", url.Values{
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

func (k *kcAdmin) do(method, path string, body any) (int, []byte) {
	k.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, k.base+"/admin/realms/crm"+path, r)
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

// enableRefreshEvents makes Keycloak record REFRESH_TOKEN events, so tests
// can count refreshes at the IdP itself.
func (k *kcAdmin) enableRefreshEvents() {
	status, body := k.do(http.MethodPut, "/events/config", map[string]any{
		"eventsEnabled": true, "eventsListeners": []string{"jboss-logging"},
		"enabledEventTypes": []string{"REFRESH_TOKEN", "REFRESH_TOKEN_ERROR", "LOGOUT"},
		"eventsExpiration":  3600,
	})
	require.Equal(k.t, http.StatusNoContent, status, string(body))
}

type kcEvent struct {
	Type      string            `json:"type"`
	SessionID string            `json:"sessionId"`
	Error     string            `json:"error"`
	Details   map[string]string `json:"details"`
}

// events returns the events of type for the IdP session sid.
func (k *kcAdmin) events(eventType, sid string) []kcEvent {
	k.t.Helper()
	status, body := k.do(http.MethodGet, "/events?client=web_app&max=10000&type="+eventType, nil)
	require.Equal(k.t, http.StatusOK, status, string(body))
	var all []kcEvent
	require.NoError(k.t, json.Unmarshal(body, &all))
	var out []kcEvent
	for _, e := range all {
		if e.SessionID == sid {
			out = append(out, e)
		}
	}
	return out
}

// eventually polls count until it is want or 5 s pass, and returns the last
// value (Keycloak stores events asynchronously to the request).
func eventually(count func() int, want int) int {
	got := count()
	for deadline := time.Now().Add(5 * time.Second); got != want && time.Now().Before(deadline); got = count() {
		time.Sleep(100 * time.Millisecond) // poll interval: Keycloak writes events asynchronously
	}
	return got
}

func (k *kcAdmin) userID(username string) string {
	k.t.Helper()
	status, body := k.do(http.MethodGet, "/users?exact=true&username="+url.QueryEscape(username), nil)
	require.Equal(k.t, http.StatusOK, status)
	var users []struct {
		ID string `json:"id"`
	}
	require.NoError(k.t, json.Unmarshal(body, &users))
	require.Len(k.t, users, 1, fmt.Sprintf("user %s", username))
	return users[0].ID
}
