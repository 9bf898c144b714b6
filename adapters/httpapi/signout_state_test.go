package httpapi

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSignoutStateRoundTripExpiryAndRotation(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	old := csrf{secrets: [][]byte{[]byte("old-secret")}}
	state := old.signoutState("http://app.example/goodbye?x=1", now)

	got, ok := old.openSignoutState(state, now.Add(signoutStateTTL-time.Second))
	require.True(t, ok)
	require.Equal(t, "http://app.example/goodbye?x=1", got)

	_, ok = old.openSignoutState(state, now.Add(signoutStateTTL+time.Second))
	require.False(t, ok, "expired")

	rotated := csrf{secrets: [][]byte{[]byte("new-secret"), []byte("old-secret")}}
	_, ok = rotated.openSignoutState(state, now)
	require.True(t, ok, "a state minted before a secret rotation still opens")
	_, ok = csrf{secrets: [][]byte{[]byte("other")}}.openSignoutState(state, now)
	require.False(t, ok, "another secret")

	for _, bad := range []string{"", ".", "x.y", "1.2.3", state + "x", "9" + state} {
		_, ok = old.openSignoutState(bad, now)
		require.False(t, ok, bad)
	}
}

func TestPageCSP(t *testing.T) {
	require.Equal(t, "default-src 'none'; style-src "+styleSource+"; script-src "+scriptSource+"; form-action 'self' https://kc.example.com http://127.0.0.1:8080; frame-ancestors 'none'; base-uri 'none'",
		pageCSP(true, []string{"https://kc.example.com/realms/crm/protocol/openid-connect/auth", "", "http://127.0.0.1:8080/x?y=1", "https://kc.example.com/logout"}))
	require.Contains(t, pageCSP(false, []string{"https://kc.example.com/auth"}), "form-action 'none';")
	for _, bad := range []string{"javascript:alert(1)", "https://a.example;script-src *", "https://*.example", "/relative", "https://a b"} {
		require.Equal(t, "", cspOrigin(bad), bad)
	}
}
