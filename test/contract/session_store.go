package contract

import (
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
)

// SessionStore checks an implementation of ports.SessionStore. Users are
// created through env.Users, as sign-in does.
func SessionStore(t *testing.T, newEnv func(t *testing.T) Env) {
	t.Run("case=create then lookup round-trips every field", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		user := newUser(t, env, func(in *ports.IdentitySync) {
			in.EmailVerified = true
			in.Image = "https://example.com/a.png"
			in.Roles = []domain.Role{
				{Name: "user", Source: domain.RoleSourceRealm},
				{Name: "admin", Source: domain.RoleSourceRealm},
				{Name: "viewer", Source: domain.ClientRoleSource("web_app")},
				{Name: "manager", Source: domain.RoleSourceOrganization},
			}
			in.Organizations = []domain.Organization{
				{ID: "kc-org-globex", Alias: "globex", Name: "Globex", TenantID: "tenant-globex"},
				{Alias: "acme", Name: "Acme"},
			}
		})
		orgs, err := env.Users.Organizations(t.Context(), user.ID)
		require.NoError(t, err)
		require.Len(t, orgs, 2)

		s, token, err := domain.NewSession(domain.NewSessionParams{
			UserID:               user.ID,
			ActiveOrganizationID: "kc-org-globex",
			Provider:             "keycloak",
			ProviderSessionID:    "kc-sid-" + domain.NewID(),
			Tokens: domain.SealedTokens{
				AccessToken:           []byte{0x00, 0x01, 0xfe, 0xff, 'a', 0x00},
				RefreshToken:          []byte("sealed-refresh\x00\x80"),
				IDToken:               []byte{0xde, 0xad, 0xbe, 0xef},
				AccessTokenExpiresAt:  base.Add(5 * time.Minute),
				RefreshTokenExpiresAt: base.Add(30 * time.Minute),
				Scope:                 "openid profile email organization",
			},
			IPAddress: "2001:db8::1",
			UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/140.0 ünïcödé",
		}, domain.DefaultSessionPolicy(), base)
		require.NoError(t, err)
		require.NoError(t, env.Sessions.Create(t.Context(), s))

		view, err := env.Sessions.Lookup(t.Context(), token.Hash())
		require.NoError(t, err)
		requireSameSession(t, view.Session, s)
		require.Equal(t, micro(base), view.Session.CreatedAt().UTC())
		requireSameUser(t, view.User, user)
		require.Equal(t, []domain.Role{
			{Name: "viewer", Source: "client:web_app"},
			{Name: "manager", Source: "organization"},
			{Name: "admin", Source: "realm"},
			{Name: "user", Source: "realm"},
		}, view.Roles, "roles sorted by source, then name")
		require.Equal(t, orgs, view.Organizations)
		require.Equal(t, []string{"acme", "globex"}, []string{view.Organizations[0].Alias, view.Organizations[1].Alias},
			"organizations sorted by alias")
		require.Equal(t, domain.Organization{ID: "kc-org-globex", Alias: "globex", Name: "Globex", TenantID: "tenant-globex"},
			view.Organizations[1])

		listed, err := env.Sessions.ListByUser(t.Context(), user.ID)
		require.NoError(t, err)
		require.Len(t, listed, 1)
		requireSameSession(t, listed[0], s)
	})

	t.Run("case=empty optional fields stay empty", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		user := newUser(t, env, func(in *ports.IdentitySync) { in.Email = "" })
		s, token, err := domain.NewSession(domain.NewSessionParams{UserID: user.ID}, domain.DefaultSessionPolicy(), base)
		require.NoError(t, err)
		require.NoError(t, env.Sessions.Create(t.Context(), s))

		view, err := env.Sessions.Lookup(t.Context(), token.Hash())
		require.NoError(t, err)
		requireSameSession(t, view.Session, s)
		got := view.Session.Tokens()
		require.True(t, got.AccessTokenExpiresAt.IsZero(), "zero access token expiry must stay zero, got %v", got.AccessTokenExpiresAt)
		require.True(t, got.RefreshTokenExpiresAt.IsZero(), "zero refresh token expiry must stay zero, got %v", got.RefreshTokenExpiresAt)
		require.Empty(t, got.AccessToken)
		require.Empty(t, got.RefreshToken)
		require.Empty(t, got.IDToken)
		require.Empty(t, view.Session.ActiveOrganizationID())
		require.Empty(t, view.Session.ProviderSessionID())
		require.Empty(t, view.User.Email)
		require.Nil(t, view.User.EmailVerified)
		require.Empty(t, view.Roles)
		require.Empty(t, view.Organizations)
	})

	t.Run("case=create with a taken token hash returns ErrConflict", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		user := newUser(t, env)
		first, token := newSession(t, env, user.ID, base)

		r := first.Record()
		r.ID = domain.NewID()
		r.UserAgent = "intruder"
		err := env.Sessions.Create(t.Context(), domain.RehydrateSession(r))
		require.ErrorIs(t, err, domain.ErrConflict)

		view, err := env.Sessions.Lookup(t.Context(), token.Hash())
		require.NoError(t, err)
		requireSameSession(t, view.Session, first)
		listed, err := env.Sessions.ListByUser(t.Context(), user.ID)
		require.NoError(t, err)
		require.Len(t, listed, 1)
	})

	t.Run("case=create for a missing user returns ErrUserNotFound", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		newUser(t, env)
		for _, userID := range []string{domain.NewID(), "not-a-uuid"} {
			s, token, err := domain.NewSession(domain.NewSessionParams{UserID: userID}, domain.DefaultSessionPolicy(), base)
			require.NoError(t, err)
			err = env.Sessions.Create(t.Context(), s)
			require.ErrorIs(t, err, domain.ErrUserNotFound, "user %q", userID)

			_, err = env.Sessions.Lookup(t.Context(), token.Hash())
			require.ErrorIs(t, err, domain.ErrSessionNotFound)
		}
	})

	t.Run("case=lookup of an unknown hash returns ErrSessionNotFound", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		user := newUser(t, env)
		newSession(t, env, user.ID, base)
		for _, h := range []domain.TokenHash{domain.NewSessionToken().Hash(), "", "not-a-hash"} {
			_, err := env.Sessions.Lookup(t.Context(), h)
			require.ErrorIs(t, err, domain.ErrSessionNotFound, "hash %q", h)
		}
	})

	t.Run("case=lookup does not check expiry", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		user := newUser(t, env)
		old, token := newSession(t, env, user.ID, base.Add(-72*time.Hour))
		require.False(t, old.IsActive(base))
		view, err := env.Sessions.Lookup(t.Context(), token.Hash())
		require.NoError(t, err)
		requireSameSession(t, view.Session, old)
	})

	t.Run("case=lookup sees the roles and organizations of the last sync", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		in := identity(base)
		in.Roles = []domain.Role{{Name: "admin", Source: domain.RoleSourceRealm}}
		in.Organizations = []domain.Organization{{Alias: "acme"}}
		user, err := env.Users.SyncIdentity(t.Context(), in)
		require.NoError(t, err)
		_, token := newSession(t, env, user.ID, base)

		in.Roles = []domain.Role{{Name: "user", Source: domain.RoleSourceRealm}}
		in.Organizations = []domain.Organization{{Alias: "initech", TenantID: "t-initech"}}
		in.Name = "Renamed"
		in.Now = base.Add(time.Minute)
		_, err = env.Users.SyncIdentity(t.Context(), in)
		require.NoError(t, err)

		view, err := env.Sessions.Lookup(t.Context(), token.Hash())
		require.NoError(t, err)
		require.Equal(t, "Renamed", view.User.Name)
		require.Equal(t, []domain.Role{{Name: "user", Source: domain.RoleSourceRealm}}, view.Roles)
		require.Len(t, view.Organizations, 1)
		require.Equal(t, "initech", view.Organizations[0].Alias)
		require.Equal(t, "t-initech", view.Organizations[0].TenantID)
	})

	t.Run("case=lookup returns the owner of the session, not another user", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		alice := newUser(t, env, func(in *ports.IdentitySync) { in.Roles = []domain.Role{{Name: "a", Source: "realm"}} })
		bob := newUser(t, env, func(in *ports.IdentitySync) { in.Roles = []domain.Role{{Name: "b", Source: "realm"}} })
		_, aliceToken := newSession(t, env, alice.ID, base)
		_, bobToken := newSession(t, env, bob.ID, base)

		view, err := env.Sessions.Lookup(t.Context(), aliceToken.Hash())
		require.NoError(t, err)
		require.Equal(t, alice.ID, view.User.ID)
		require.Equal(t, []domain.Role{{Name: "a", Source: "realm"}}, view.Roles)
		view, err = env.Sessions.Lookup(t.Context(), bobToken.Hash())
		require.NoError(t, err)
		require.Equal(t, bob.ID, view.User.ID)
		require.Equal(t, []domain.Role{{Name: "b", Source: "realm"}}, view.Roles)
	})

	t.Run("case=update writes what the callback changed", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		user := newUser(t, env, func(in *ports.IdentitySync) {
			in.Organizations = []domain.Organization{{ID: "org-1", Alias: "one"}, {ID: "org-2", Alias: "two"}}
		})
		s, oldToken := newSession(t, env, user.ID, base, func(r *domain.SessionRecord) { r.ActiveOrganizationID = "org-1" })

		later := base.Add(2 * time.Hour)
		var newToken domain.SessionToken
		var seen, want *domain.Session
		touched := false
		err := env.Sessions.Update(t.Context(), s.ID(), func(got *domain.Session) error {
			seen = domain.RehydrateSession(got.Record())
			touched = got.Touch(domain.DefaultSessionPolicy(), later)
			got.SwitchOrganization("org-2", later)
			got.ReplaceTokens(domain.SealedTokens{AccessToken: []byte{9, 9}, AccessTokenExpiresAt: later.Add(time.Minute), Scope: "openid"}, later)
			newToken = got.RotateToken(later)
			want = domain.RehydrateSession(got.Record())
			return nil
		})
		require.NoError(t, err)
		requireSameSession(t, seen, s)
		require.True(t, touched)

		_, err = env.Sessions.Lookup(t.Context(), oldToken.Hash())
		require.ErrorIs(t, err, domain.ErrSessionNotFound, "the rotated-away token must stop working")
		view, err := env.Sessions.Lookup(t.Context(), newToken.Hash())
		require.NoError(t, err)
		requireSameSession(t, view.Session, want)
		require.Equal(t, "org-2", view.Session.ActiveOrganizationID())
		require.Equal(t, micro(later.Add(domain.DefaultSessionPolicy().MaxAge)), view.Session.Expires().UTC())
		require.True(t, view.Session.Tokens().RefreshTokenExpiresAt.IsZero())
	})

	t.Run("case=update of an unknown session returns ErrSessionNotFound", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		user := newUser(t, env)
		newSession(t, env, user.ID, base)
		for _, id := range []string{domain.NewID(), "not-a-uuid", ""} {
			called := false
			err := env.Sessions.Update(t.Context(), id, func(*domain.Session) error { called = true; return nil })
			require.ErrorIs(t, err, domain.ErrSessionNotFound, "id %q", id)
			require.False(t, called, "fn must not run without a session")
		}
	})

	t.Run("case=update returns the callback's error unchanged and writes nothing", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		user := newUser(t, env)
		s, token := newSession(t, env, user.ID, base)

		errBoom := errors.New("boom")
		err := env.Sessions.Update(t.Context(), s.ID(), func(got *domain.Session) error {
			got.ReplaceTokens(domain.SealedTokens{Scope: "changed"}, base.Add(time.Hour))
			got.RotateToken(base.Add(time.Hour))
			return errBoom
		})
		require.True(t, err == errBoom, "Update returned %v (%T), want the callback's error itself", err, err) //nolint:errorlint // identity is the contract

		// A domain sentinel from the callback also comes back as it was.
		err = env.Sessions.Update(t.Context(), s.ID(), func(*domain.Session) error { return domain.ErrSessionExpired })
		require.True(t, err == domain.ErrSessionExpired, "Update returned %v", err) //nolint:errorlint // identity is the contract

		view, err := env.Sessions.Lookup(t.Context(), token.Hash())
		require.NoError(t, err)
		requireSameSession(t, view.Session, s)
	})

	t.Run("case=update serialises concurrent updates", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		user := newUser(t, env)
		s, token := newSession(t, env, user.ID, base, func(r *domain.SessionRecord) { r.Tokens.Scope = "0" })

		const workers = 20
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for i := 0; i < workers; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- env.Sessions.Update(t.Context(), s.ID(), func(got *domain.Session) error {
					n, err := strconv.Atoi(got.Tokens().Scope)
					if err != nil {
						return err
					}
					time.Sleep(time.Millisecond) // widen the read-modify-write window
					tok := got.Tokens()
					tok.Scope = strconv.Itoa(n + 1)
					got.ReplaceTokens(tok, base)
					return nil
				})
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		view, err := env.Sessions.Lookup(t.Context(), token.Hash())
		require.NoError(t, err)
		require.Equal(t, strconv.Itoa(workers), view.Session.Tokens().Scope, "an update was lost")
	})

	t.Run("case=update to a token hash another session holds returns ErrConflict", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		user := newUser(t, env)
		a, aToken := newSession(t, env, user.ID, base)
		b, bToken := newSession(t, env, user.ID, base)

		err := env.Sessions.Update(t.Context(), b.ID(), func(got *domain.Session) error {
			r := got.Record()
			r.TokenHash = a.TokenHash()
			*got = *domain.RehydrateSession(r)
			return nil
		})
		require.ErrorIs(t, err, domain.ErrConflict)
		view, err := env.Sessions.Lookup(t.Context(), aToken.Hash())
		require.NoError(t, err)
		require.Equal(t, a.ID(), view.Session.ID())
		view, err = env.Sessions.Lookup(t.Context(), bToken.Hash())
		require.NoError(t, err)
		require.Equal(t, b.ID(), view.Session.ID())
	})

	t.Run("case=delete removes the session once", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		user := newUser(t, env)
		s, token := newSession(t, env, user.ID, base)
		other, otherToken := newSession(t, env, user.ID, base)

		require.NoError(t, env.Sessions.Delete(t.Context(), s.ID()))
		_, err := env.Sessions.Lookup(t.Context(), token.Hash())
		require.ErrorIs(t, err, domain.ErrSessionNotFound)
		require.ErrorIs(t, env.Sessions.Delete(t.Context(), s.ID()), domain.ErrSessionNotFound)
		require.ErrorIs(t, env.Sessions.Update(t.Context(), s.ID(), func(*domain.Session) error { return nil }), domain.ErrSessionNotFound)

		view, err := env.Sessions.Lookup(t.Context(), otherToken.Hash())
		require.NoError(t, err)
		requireSameSession(t, view.Session, other)
	})

	t.Run("case=delete of an unknown session returns ErrSessionNotFound", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		for _, id := range []string{domain.NewID(), "not-a-uuid", ""} {
			require.ErrorIs(t, env.Sessions.Delete(t.Context(), id), domain.ErrSessionNotFound, "id %q", id)
		}
	})

	t.Run("case=list by user returns the user's sessions newest first, expired included", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		alice := newUser(t, env)
		bob := newUser(t, env)
		expired, _ := newSession(t, env, alice.ID, base.Add(-48*time.Hour))
		middle, _ := newSession(t, env, alice.ID, base.Add(-time.Hour))
		newest, _ := newSession(t, env, alice.ID, base)
		oldest, _ := newSession(t, env, alice.ID, base.Add(-96*time.Hour))
		bobs, _ := newSession(t, env, bob.ID, base.Add(time.Hour))

		got, err := env.Sessions.ListByUser(t.Context(), alice.ID)
		require.NoError(t, err)
		require.Equal(t, []string{newest.ID(), middle.ID(), expired.ID(), oldest.ID()}, sessionIDs(got))
		requireSameSession(t, got[0], newest)
		requireSameSession(t, got[2], expired)

		got, err = env.Sessions.ListByUser(t.Context(), bob.ID)
		require.NoError(t, err)
		require.Equal(t, []string{bobs.ID()}, sessionIDs(got))
	})

	t.Run("case=list by an unknown user is empty", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		user := newUser(t, env)
		newSession(t, env, user.ID, base)
		for _, id := range []string{domain.NewID(), "not-a-uuid", ""} {
			got, err := env.Sessions.ListByUser(t.Context(), id)
			require.NoError(t, err, "id %q", id)
			require.Empty(t, got, "id %q", id)
		}
		other := newUser(t, env)
		got, err := env.Sessions.ListByUser(t.Context(), other.ID)
		require.NoError(t, err)
		require.Empty(t, got)
	})

	t.Run("case=delete by user removes all of the user's sessions", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		alice := newUser(t, env)
		bob := newUser(t, env)
		for i := 0; i < 3; i++ {
			newSession(t, env, alice.ID, base.Add(time.Duration(i)*time.Minute))
		}
		bobs, bobToken := newSession(t, env, bob.ID, base)

		n, err := env.Sessions.DeleteByUser(t.Context(), alice.ID, "")
		require.NoError(t, err)
		require.EqualValues(t, 3, n)
		got, err := env.Sessions.ListByUser(t.Context(), alice.ID)
		require.NoError(t, err)
		require.Empty(t, got)

		view, err := env.Sessions.Lookup(t.Context(), bobToken.Hash())
		require.NoError(t, err)
		requireSameSession(t, view.Session, bobs)

		n, err = env.Sessions.DeleteByUser(t.Context(), alice.ID, "")
		require.NoError(t, err)
		require.EqualValues(t, 0, n)
	})

	t.Run("case=delete by user keeps the excepted session", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		alice := newUser(t, env)
		bob := newUser(t, env)
		var keep *domain.Session
		var keepToken domain.SessionToken
		for i := 0; i < 4; i++ {
			s, tok := newSession(t, env, alice.ID, base.Add(time.Duration(i)*time.Minute))
			if i == 1 {
				keep, keepToken = s, tok
			}
		}
		bobs, _ := newSession(t, env, bob.ID, base)

		n, err := env.Sessions.DeleteByUser(t.Context(), alice.ID, keep.ID())
		require.NoError(t, err)
		require.EqualValues(t, 3, n)
		got, err := env.Sessions.ListByUser(t.Context(), alice.ID)
		require.NoError(t, err)
		require.Equal(t, []string{keep.ID()}, sessionIDs(got))
		_, err = env.Sessions.Lookup(t.Context(), keepToken.Hash())
		require.NoError(t, err)

		// Excepting another user's session protects nothing of this user's
		// and does not touch the other user's session.
		n, err = env.Sessions.DeleteByUser(t.Context(), alice.ID, bobs.ID())
		require.NoError(t, err)
		require.EqualValues(t, 1, n)
		got, err = env.Sessions.ListByUser(t.Context(), bob.ID)
		require.NoError(t, err)
		require.Equal(t, []string{bobs.ID()}, sessionIDs(got))
	})

	t.Run("case=delete by an unknown user removes nothing", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		user := newUser(t, env)
		s, _ := newSession(t, env, user.ID, base)
		for _, id := range []string{domain.NewID(), "not-a-uuid"} {
			n, err := env.Sessions.DeleteByUser(t.Context(), id, "")
			require.NoError(t, err, "id %q", id)
			require.EqualValues(t, 0, n)
			n, err = env.Sessions.DeleteByUser(t.Context(), id, s.ID())
			require.NoError(t, err, "id %q", id)
			require.EqualValues(t, 0, n)
		}
		got, err := env.Sessions.ListByUser(t.Context(), user.ID)
		require.NoError(t, err)
		require.Len(t, got, 1)
	})

	sessionLease(t, newEnv)
}
