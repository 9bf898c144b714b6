package contract

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
)

// SessionView checks ports.SessionStore.LookupView: the session read that
// may be served from a cache. Every case reads the view first (so a cache
// holds it), changes something through the ports, and expects the very next
// read to see the change: a store's own writes are never served stale.
func SessionView(t *testing.T, newEnv func(t *testing.T) Env) {
	t.Run("case=view is what rendering needs of the lookup, without the sealed tokens", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		user := newUser(t, env, withRolesAndOrgs("acme", "globex"))
		orgs, err := env.Users.Organizations(t.Context(), user.ID)
		require.NoError(t, err)
		_, token := newSession(t, env, user.ID, base, func(r *domain.SessionRecord) {
			r.ActiveOrganizationID = orgs[0].ID
			r.Tokens = domain.SealedTokens{AccessToken: []byte("sealed-at"), RefreshToken: []byte("sealed-rt"),
				IDToken: []byte("sealed-id"), AccessTokenExpiresAt: base.Add(5 * 60e9), Scope: "openid"}
		})
		full, err := env.Sessions.Lookup(t.Context(), token.Hash())
		require.NoError(t, err)
		for range 2 { // a miss, then (where there is a cache) a hit
			view, err := env.Sessions.LookupView(t.Context(), token.Hash())
			require.NoError(t, err)
			got, want := view.Session.Record(), full.Session.Record()
			require.Empty(t, got.Tokens.AccessToken)
			require.Empty(t, got.Tokens.RefreshToken)
			require.Empty(t, got.Tokens.IDToken)
			require.Equal(t, want.ID, got.ID)
			require.Equal(t, want.TokenHash, got.TokenHash)
			require.Equal(t, want.UserID, got.UserID)
			require.Equal(t, micro(want.Expires), micro(got.Expires))
			require.Equal(t, micro(want.AbsoluteExpires), micro(got.AbsoluteExpires))
			require.Equal(t, want.ActiveOrganizationID, got.ActiveOrganizationID)
			require.Equal(t, full.User.ID, view.User.ID)
			require.Equal(t, full.User.Name, view.User.Name)
			require.Equal(t, full.User.Email, view.User.Email)
			require.Equal(t, full.User.Image, view.User.Image)
			require.Equal(t, full.Roles, view.Roles)
			require.Equal(t, full.Organizations, view.Organizations)
		}
	})

	t.Run("case=a change to the session is seen by the next read", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		user := newUser(t, env, withRolesAndOrgs("acme", "globex"))
		s, token := newSession(t, env, user.ID, base)
		orgs, err := env.Users.Organizations(t.Context(), user.ID)
		require.NoError(t, err)
		primeView(t, env, token)
		require.NoError(t, env.Sessions.Update(t.Context(), s.ID(), func(s *domain.Session) error {
			s.SwitchOrganization(orgs[1].ID, base)
			return nil
		}))
		view, err := env.Sessions.LookupView(t.Context(), token.Hash())
		require.NoError(t, err)
		require.Equal(t, orgs[1].ID, view.Session.ActiveOrganizationID())

		var rotated domain.SessionToken
		require.NoError(t, env.Sessions.Update(t.Context(), s.ID(), func(s *domain.Session) error {
			rotated = s.RotateToken(base)
			return nil
		}))
		_, err = env.Sessions.LookupView(t.Context(), token.Hash())
		require.ErrorIs(t, err, domain.ErrSessionNotFound, "the old token ends with the rotation")
		primeView(t, env, rotated)
		require.NoError(t, env.Sessions.Delete(t.Context(), s.ID()))
		_, err = env.Sessions.LookupView(t.Context(), rotated.Hash())
		require.ErrorIs(t, err, domain.ErrSessionNotFound)
	})

	t.Run("case=a resync of the user is seen by the next read", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		in := identity(base)
		withRolesAndOrgs("acme")(&in)
		user, err := env.Users.SyncIdentity(t.Context(), in)
		require.NoError(t, err)
		_, token := newSession(t, env, user.ID, base)
		primeView(t, env, token)

		in.Name = "Renamed"
		in.Roles = []domain.Role{{Name: "auditor", Source: domain.RoleSourceRealm}}
		in.Organizations = []domain.Organization{{Alias: "initech", Name: "Initech"}}
		_, err = env.Users.SyncIdentity(t.Context(), in)
		require.NoError(t, err)
		view, err := env.Sessions.LookupView(t.Context(), token.Hash())
		require.NoError(t, err)
		require.Equal(t, "Renamed", view.User.Name)
		require.Equal(t, []domain.Role{{Name: "auditor", Source: domain.RoleSourceRealm}}, view.Roles)
		require.Len(t, view.Organizations, 1)
		require.Equal(t, "initech", view.Organizations[0].Alias)
	})

	t.Run("case=every way of ending sessions is seen by the next read", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		user := newUser(t, env)
		ends := map[string]func(s *domain.Session) error{
			"DeleteByUser": func(*domain.Session) error {
				_, err := env.Sessions.DeleteByUser(t.Context(), user.ID, "")
				return err
			},
			"DeleteByProviderSession": func(s *domain.Session) error {
				_, err := env.Revoker.DeleteByProviderSession(t.Context(), "keycloak", s.ProviderSessionID())
				return err
			},
		}
		for name, end := range ends {
			s, token := newSession(t, env, user.ID, base, func(r *domain.SessionRecord) {
				r.ProviderSessionID = "kc-sid-" + domain.NewID()
			})
			primeView(t, env, token)
			require.NoError(t, end(s), name)
			_, err := env.Sessions.LookupView(t.Context(), token.Hash())
			require.ErrorIs(t, err, domain.ErrSessionNotFound, name)
		}
	})
}

// primeView reads a session's view twice, so a cache holds it.
func primeView(t *testing.T, env Env, token domain.SessionToken) {
	t.Helper()
	for range 2 {
		_, err := env.Sessions.LookupView(t.Context(), token.Hash())
		require.NoError(t, err)
	}
}

// withRolesAndOrgs gives a synced identity a realm role and organizations
// with these aliases.
func withRolesAndOrgs(aliases ...string) func(*ports.IdentitySync) {
	return func(in *ports.IdentitySync) {
		in.Roles = []domain.Role{{Name: "user", Source: domain.RoleSourceRealm}}
		in.Organizations = nil
		for _, a := range aliases {
			in.Organizations = append(in.Organizations, domain.Organization{Alias: a, Name: a})
		}
	}
}
