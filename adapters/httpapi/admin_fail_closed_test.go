package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/domain"
)

// TestAdminRoutesFailClosed, on PostgreSQL and SQLite: every admin route
// refuses an anonymous caller (401) and a plain user (403), and the database
// shows nothing changed (the victim's sessions and an expired row cleanup
// would delete are still there). The role is decided by the use cases (the
// adapter only resolves the session into an application.UserCaller); a
// zero Caller cannot be built from HTTP, and is covered at use-case level.
func TestAdminRoutesFailClosed(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, st edgeStores) {
		a, _ := newEdgeApp(t, st, "")
		plainID := alice
		plainID.Subject, plainID.Email, plainID.Roles = "sub-carol", "carol@example.com", []domain.Role{{Name: "user", Source: "realm"}}
		// An expired session (signed in 60 days ago) that cleanup would delete.
		a.now = a.now.Add(-60 * 24 * time.Hour)
		signIn(t, a, plainID)
		a.now = a.now.Add(60 * 24 * time.Hour)
		plain := signIn(t, a, plainID)
		signIn(t, a, alice)
		rows := func() int { return st.count(t, "SELECT count(*) FROM sessions") }
		before := rows()
		require.Equal(t, 3, before)

		routes := []struct{ method, path string }{
			{"GET", "/api/auth/cleanup"}, {"POST", "/api/auth/cleanup"},
			{"GET", "/api/auth/admin/users/alice@example.com/sessions"},
			{"DELETE", "/api/auth/admin/users/alice@example.com/sessions"},
		}
		callers := map[string]struct {
			c    *http.Client
			want int
		}{"anonymous": {browser(t), http.StatusUnauthorized}, "plain user": {plain, http.StatusForbidden}}
		n := 0
		for who, cl := range callers {
			for _, r := range routes {
				status, body := send(t, cl.c, r.method, a.url(r.path), "", "", map[string]string{"X-CSRF": "1"})
				require.Equal(t, cl.want, status, "%s: %s %s: %s", who, r.method, r.path, body)
				require.Equal(t, before, rows(), "%s: %s %s changed sessions", who, r.method, r.path)
				n++
			}
		}
		t.Logf("%d admin routes × %d callers: %d refusals, session rows %d → %d", len(routes), len(callers), n, before, rows())
	})
}
