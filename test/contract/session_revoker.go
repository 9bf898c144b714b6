package contract

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
)

// SessionRevoker checks ports.SessionRevoker: back-channel logout by IdP
// session id or by subject ends exactly the matching sessions.
func SessionRevoker(t *testing.T, newEnv func(t *testing.T) Env) {
	t.Helper()
	withSid := func(sid string) func(*domain.SessionRecord) {
		return func(r *domain.SessionRecord) { r.ProviderSessionID = sid }
	}
	alive := func(t *testing.T, env Env, s *domain.Session) bool {
		t.Helper()
		_, err := env.Sessions.Lookup(t.Context(), s.TokenHash())
		if errors.Is(err, domain.ErrSessionNotFound) {
			return false
		}
		require.NoError(t, err)
		return true
	}

	t.Run("case=by provider session id ends only that IdP session", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		u := newUser(t, env)
		other := newUser(t, env)
		a1, _ := newSession(t, env, u.ID, base, withSid("sid-a"))
		a2, _ := newSession(t, env, u.ID, base, withSid("sid-a")) // two tabs, one IdP session
		b, _ := newSession(t, env, u.ID, base, withSid("sid-b"))
		o, _ := newSession(t, env, other.ID, base, withSid("sid-o"))

		n, err := env.Revoker.DeleteByProviderSession(t.Context(), "keycloak", "sid-a")
		require.NoError(t, err)
		require.EqualValues(t, 2, n)
		require.False(t, alive(t, env, a1))
		require.False(t, alive(t, env, a2))
		require.True(t, alive(t, env, b))
		require.True(t, alive(t, env, o))

		n, err = env.Revoker.DeleteByProviderSession(t.Context(), "github", "sid-b")
		require.NoError(t, err)
		require.Zero(t, n, "the provider must match too")
		n, err = env.Revoker.DeleteByProviderSession(t.Context(), "keycloak", "")
		require.NoError(t, err)
		require.Zero(t, n, "an empty sid matches nothing")
	})

	t.Run("case=by subject ends every session of that user only", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		var subject string
		u := newUser(t, env, func(in *ports.IdentitySync) { subject = in.Subject })
		other := newUser(t, env)
		s1, _ := newSession(t, env, u.ID, base, withSid("x"))
		s2, _ := newSession(t, env, u.ID, base, withSid("y"))
		o, _ := newSession(t, env, other.ID, base, withSid("z"))

		n, err := env.Revoker.DeleteByProviderSubject(t.Context(), "keycloak", subject)
		require.NoError(t, err)
		require.EqualValues(t, 2, n)
		require.False(t, alive(t, env, s1))
		require.False(t, alive(t, env, s2))
		require.True(t, alive(t, env, o))

		n, err = env.Revoker.DeleteByProviderSubject(t.Context(), "keycloak", "unknown-subject")
		require.NoError(t, err)
		require.Zero(t, n)
	})
}
