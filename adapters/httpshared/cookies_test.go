package httpshared_test

import (
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/adapters/httpshared"
)

func TestCookieNames(t *testing.T) {
	require.Equal(t, "__Host-authjs.csrf-token", httpshared.CookieName(httpshared.CSRFCookie, true))
	require.Equal(t, "__Secure-authjs.session-token", httpshared.CookieName(httpshared.SessionCookie, true))
	require.Equal(t, "authjs.callback-url", httpshared.CookieName(httpshared.CallbackURLCookie, false))
	for _, n := range []string{"authjs.session-token", "__Secure-authjs.session-token.0", "__Host-authjs.csrf-token",
		"AUTHJS.SESSION-TOKEN", "__secure-next-auth.session-token", "next-auth.csrf-token", " authjs.pkce.code_verifier"} {
		require.True(t, httpshared.IsAuthCookie(n), n)
	}
	for _, n := range []string{"theme", "JSESSIONID", "my-authjs.x", "__Host-other"} {
		require.False(t, httpshared.IsAuthCookie(n), n)
	}
}

func TestRequestIDsAreFreshAndErrorsHaveOneShape(t *testing.T) {
	a, b := httpshared.NewRequestID(), httpshared.NewRequestID()
	require.Len(t, a, 24)
	require.NotEqual(t, a, b)
	require.True(t, httpshared.SafeClientRequestID("req-1.A_b"))
	require.False(t, httpshared.SafeClientRequestID("a b"))
	require.False(t, httpshared.SafeClientRequestID(""))

	rec := httptest.NewRecorder()
	httpshared.WriteError(rec, 418, "teapot", `say "hi"`)
	require.Equal(t, 418, rec.Code)
	require.Equal(t, "application/json; charset=utf-8", rec.Header().Get("Content-Type"))
	require.JSONEq(t, `{"error":{"code":"teapot","message":"say \"hi\""}}`, rec.Body.String())
}
