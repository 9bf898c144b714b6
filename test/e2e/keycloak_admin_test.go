package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/test/testenv"
)

// kcAdmin calls Keycloak's admin REST API on the test realm as the
// bootstrap admin, with the e2e suite's own checks on top.
type kcAdmin struct {
	*testenv.KeycloakAdmin
	t *testing.T
}

func newKCAdmin(t *testing.T) *kcAdmin {
	return &kcAdmin{KeycloakAdmin: testenv.NewKeycloakAdmin(t, issuer), t: t}
}

// do calls path under the realm's admin API and returns the status and body.
func (k *kcAdmin) do(method, path string, body any) (int, []byte) {
	k.t.Helper()
	return k.Do(method, path, body)
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
