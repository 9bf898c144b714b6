package contract

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
)

// UserStore checks an implementation of ports.UserStore.
func UserStore(t *testing.T, newEnv func(t *testing.T) Env) {
	t.Run("case=sync creates a user that reads back", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		in := identity(base)
		in.Name, in.Email, in.EmailVerified, in.Image = "Alice Liddell", "  Alice@Example.COM ", true, "https://example.com/alice.png"
		u, err := env.Users.SyncIdentity(t.Context(), in)
		require.NoError(t, err)

		require.NotEmpty(t, u.ID)
		require.Equal(t, "Alice Liddell", u.Name)
		require.Equal(t, "alice@example.com", u.Email, "email is stored normalised")
		require.Equal(t, "https://example.com/alice.png", u.Image)
		require.NotNil(t, u.EmailVerified)
		require.Equal(t, micro(base), micro(*u.EmailVerified))
		require.Equal(t, micro(base), micro(u.CreatedAt))
		require.Equal(t, micro(base), micro(u.UpdatedAt))

		got, err := env.Users.User(t.Context(), u.ID)
		require.NoError(t, err)
		requireSameUser(t, got, u)
		got, err = env.Users.UserByEmail(t.Context(), "alice@example.com")
		require.NoError(t, err)
		requireSameUser(t, got, u)
	})

	t.Run("case=sync of a known identity updates the same user", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		in := identity(base)
		in.EmailVerified = true
		first, err := env.Users.SyncIdentity(t.Context(), in)
		require.NoError(t, err)

		later := base.Add(time.Hour)
		in.Name, in.Email, in.Image, in.Now = "New Name", "new-"+in.Email, "img", later
		second, err := env.Users.SyncIdentity(t.Context(), in)
		require.NoError(t, err)
		require.Equal(t, first.ID, second.ID)
		require.Equal(t, "New Name", second.Name)
		require.Equal(t, domain.NormalizeEmail(in.Email), second.Email)
		require.Equal(t, "img", second.Image)
		require.NotNil(t, second.EmailVerified)
		require.Equal(t, micro(base), micro(second.CreatedAt), "created_at never moves")
		require.Equal(t, micro(later), micro(second.UpdatedAt))

		got, err := env.Users.User(t.Context(), first.ID)
		require.NoError(t, err)
		requireSameUser(t, got, second)
		_, err = env.Users.UserByEmail(t.Context(), first.Email)
		require.ErrorIs(t, err, domain.ErrUserNotFound, "the old email no longer finds the user")

		in.EmailVerified = false
		third, err := env.Users.SyncIdentity(t.Context(), in)
		require.NoError(t, err)
		require.Nil(t, third.EmailVerified, "an unverified email is not verified")
		got, err = env.Users.User(t.Context(), first.ID)
		require.NoError(t, err)
		require.Nil(t, got.EmailVerified)
	})

	t.Run("case=another subject or provider is another user", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		in := identity(base)
		a, err := env.Users.SyncIdentity(t.Context(), in)
		require.NoError(t, err)

		other := in
		other.Subject, other.Email = domain.NewID(), ""
		b, err := env.Users.SyncIdentity(t.Context(), other)
		require.NoError(t, err)
		require.NotEqual(t, a.ID, b.ID)

		elsewhere := in
		elsewhere.Provider, elsewhere.Email = "github", ""
		c, err := env.Users.SyncIdentity(t.Context(), elsewhere)
		require.NoError(t, err)
		require.NotEqual(t, a.ID, c.ID)
		require.NotEqual(t, b.ID, c.ID)
	})

	t.Run("case=an email of another user returns ErrConflict and changes nothing", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		alice := newUser(t, env, func(in *ports.IdentitySync) { in.Email = "alice@example.com" })

		// A new identity claiming Alice's email, spelled differently.
		in := identity(base)
		in.Email = "ALICE@example.com"
		in.Roles = []domain.Role{{Name: "admin", Source: domain.RoleSourceRealm}}
		_, err := env.Users.SyncIdentity(t.Context(), in)
		require.ErrorIs(t, err, domain.ErrConflict)
		got, err := env.Users.UserByEmail(t.Context(), "alice@example.com")
		require.NoError(t, err)
		require.Equal(t, alice.ID, got.ID)

		// The same identity with a free email is created afresh: the failed
		// attempt left no account behind.
		in.Email = "mallory@example.com"
		mallory, err := env.Users.SyncIdentity(t.Context(), in)
		require.NoError(t, err)
		require.NotEqual(t, alice.ID, mallory.ID)

		// An existing user switching to Alice's email is refused, and the
		// whole sync (profile, roles) is rolled back.
		in.Email, in.Name, in.Now = "alice@example.com", "Changed", base.Add(time.Hour)
		in.Roles = nil
		_, err = env.Users.SyncIdentity(t.Context(), in)
		require.ErrorIs(t, err, domain.ErrConflict)
		got, err = env.Users.User(t.Context(), mallory.ID)
		require.NoError(t, err)
		requireSameUser(t, got, mallory)
		roles, err := env.Users.Roles(t.Context(), mallory.ID)
		require.NoError(t, err)
		require.Equal(t, []domain.Role{{Name: "admin", Source: domain.RoleSourceRealm}}, roles)
	})

	t.Run("case=users without email do not collide", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		a := newUser(t, env, func(in *ports.IdentitySync) { in.Email = "" })
		b := newUser(t, env, func(in *ports.IdentitySync) { in.Email = "" })
		require.NotEqual(t, a.ID, b.ID)
		require.Empty(t, a.Email)
		got, err := env.Users.User(t.Context(), b.ID)
		require.NoError(t, err)
		require.Empty(t, got.Email)
		_, err = env.Users.UserByEmail(t.Context(), "")
		require.ErrorIs(t, err, domain.ErrUserNotFound)
	})

	t.Run("case=user by email is case-insensitive", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		u := newUser(t, env, func(in *ports.IdentitySync) { in.Email = "Bob.Smith@Example.org" })
		for _, q := range []string{"bob.smith@example.org", "BOB.SMITH@EXAMPLE.ORG", "Bob.Smith@Example.org", " bob.smith@example.org "} {
			got, err := env.Users.UserByEmail(t.Context(), q)
			require.NoError(t, err, "email %q", q)
			require.Equal(t, u.ID, got.ID, "email %q", q)
		}
	})

	t.Run("case=unknown users return ErrUserNotFound", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		newUser(t, env)
		for _, id := range []string{domain.NewID(), "not-a-uuid", ""} {
			_, err := env.Users.User(t.Context(), id)
			require.ErrorIs(t, err, domain.ErrUserNotFound, "id %q", id)
		}
		_, err := env.Users.UserByEmail(t.Context(), "nobody@example.com")
		require.ErrorIs(t, err, domain.ErrUserNotFound)
	})

	t.Run("case=invalid input returns a ValidationError and stores nothing", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		cases := map[string]func(*ports.IdentitySync){
			"no subject":         func(in *ports.IdentitySync) { in.Subject = "" },
			"no provider":        func(in *ports.IdentitySync) { in.Provider = "" },
			"bad email":          func(in *ports.IdentitySync) { in.Email = "not an email" },
			"two emails":         func(in *ports.IdentitySync) { in.Email = "a@example.com,b@example.com" },
			"role without name":  func(in *ports.IdentitySync) { in.Roles = []domain.Role{{Source: domain.RoleSourceRealm}} },
			"role of bad source": func(in *ports.IdentitySync) { in.Roles = []domain.Role{{Name: "x", Source: "bogus"}} },
			"org without alias":  func(in *ports.IdentitySync) { in.Organizations = []domain.Organization{{ID: "o", Name: "No alias"}} },
		}
		i := 0
		for name, adjust := range cases {
			i++
			in := identity(base)
			in.Email = fmt.Sprintf("valid-%d@example.com", i)
			adjust(&in)
			_, err := env.Users.SyncIdentity(t.Context(), in)
			var ve *domain.ValidationError
			require.ErrorAs(t, err, &ve, name)
			if in.Email != "" {
				_, err = env.Users.UserByEmail(t.Context(), in.Email)
				require.ErrorIs(t, err, domain.ErrUserNotFound, name)
			}
		}
		// After all those failures, a valid sync of the same person works.
		in := identity(base)
		_, err := env.Users.SyncIdentity(t.Context(), in)
		require.NoError(t, err)
	})

	t.Run("case=roles are replaced and sorted by source then name", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		in := identity(base)
		in.Roles = []domain.Role{
			{Name: "user", Source: domain.RoleSourceRealm},
			{Name: "admin", Source: domain.RoleSourceRealm},
			{Name: "admin", Source: domain.ClientRoleSource("web_app")},
			{Name: "viewer", Source: domain.ClientRoleSource("api")},
			{Name: "user", Source: domain.RoleSourceRealm}, // duplicate claim
			{Name: "owner", Source: domain.RoleSourceOrganization},
		}
		u, err := env.Users.SyncIdentity(t.Context(), in)
		require.NoError(t, err)
		// Another user shares some roles; removing them from u must not
		// touch this user.
		other := newUser(t, env, func(o *ports.IdentitySync) { o.Roles = in.Roles[:3] })

		roles, err := env.Users.Roles(t.Context(), u.ID)
		require.NoError(t, err)
		require.Equal(t, []domain.Role{
			{Name: "viewer", Source: "client:api"},
			{Name: "admin", Source: "client:web_app"},
			{Name: "owner", Source: "organization"},
			{Name: "admin", Source: "realm"},
			{Name: "user", Source: "realm"},
		}, roles)

		in.Roles = []domain.Role{{Name: "user", Source: domain.RoleSourceRealm}, {Name: "editor", Source: domain.RoleSourceOrganization}}
		in.Now = base.Add(time.Hour)
		_, err = env.Users.SyncIdentity(t.Context(), in)
		require.NoError(t, err)
		roles, err = env.Users.Roles(t.Context(), u.ID)
		require.NoError(t, err)
		require.Equal(t, []domain.Role{{Name: "editor", Source: "organization"}, {Name: "user", Source: "realm"}}, roles)

		in.Roles = nil
		_, err = env.Users.SyncIdentity(t.Context(), in)
		require.NoError(t, err)
		roles, err = env.Users.Roles(t.Context(), u.ID)
		require.NoError(t, err)
		require.Empty(t, roles)

		roles, err = env.Users.Roles(t.Context(), other.ID)
		require.NoError(t, err)
		require.Equal(t, []domain.Role{
			{Name: "admin", Source: "client:web_app"},
			{Name: "admin", Source: "realm"},
			{Name: "user", Source: "realm"},
		}, roles)
	})

	t.Run("case=organizations are replaced and sorted by alias", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		in := identity(base)
		in.Organizations = []domain.Organization{
			{Alias: "globex", Name: "Globex"},
			{ExternalID: "kc-acme", Alias: "acme", Name: "Acme", TenantID: "tenant-acme"},
			{Alias: "initech", Name: "Initech", TenantID: "tenant-initech"},
			{Alias: "globex", Name: "Globex"}, // duplicate claim
		}
		u, err := env.Users.SyncIdentity(t.Context(), in)
		require.NoError(t, err)

		orgs, err := env.Users.Organizations(t.Context(), u.ID)
		require.NoError(t, err)
		require.Len(t, orgs, 3)
		require.Equal(t, domain.Organization{ID: orgs[0].ID, ExternalID: "kc-acme", Alias: "acme", Name: "Acme", TenantID: "tenant-acme"}, orgs[0],
			"the IdP's organization id is kept")
		require.NotEqual(t, "kc-acme", orgs[0].ID, "apart from authbff's own key")
		require.Equal(t, "globex", orgs[1].Alias)
		require.NotEmpty(t, orgs[1].ID, "an organization without IdP id gets a key of ours")
		require.Empty(t, orgs[1].ExternalID, "but no IdP id is made up")
		require.Equal(t, "Globex", orgs[1].Name)
		require.Empty(t, orgs[1].TenantID)
		require.Equal(t, "initech", orgs[2].Alias)
		require.Equal(t, "tenant-initech", orgs[2].TenantID)
		require.NotEqual(t, orgs[1].ID, orgs[2].ID)
		globexID, initechID := orgs[1].ID, orgs[2].ID

		// Next sign-in: acme is gone, globex stays, a new org appears. The
		// claim may carry only aliases: stored names and tenant ids are kept.
		in.Organizations = []domain.Organization{{Alias: "initech"}, {Alias: "globex"}, {Alias: "hooli", Name: "Hooli"}}
		in.Now = base.Add(time.Hour)
		_, err = env.Users.SyncIdentity(t.Context(), in)
		require.NoError(t, err)
		orgs, err = env.Users.Organizations(t.Context(), u.ID)
		require.NoError(t, err)
		require.Equal(t, []string{"globex", "hooli", "initech"}, aliases(orgs))
		require.Equal(t, domain.Organization{ID: globexID, Alias: "globex", Name: "Globex"}, orgs[0],
			"an assigned id does not change on the next sync")
		require.Equal(t, domain.Organization{ID: initechID, Alias: "initech", Name: "Initech", TenantID: "tenant-initech"}, orgs[2],
			"tenant id is kept")

		// A new tenant id from the IdP replaces the stored one.
		in.Organizations = []domain.Organization{{Alias: "initech", Name: "Initech Corp", TenantID: "tenant-2"}}
		_, err = env.Users.SyncIdentity(t.Context(), in)
		require.NoError(t, err)
		orgs, err = env.Users.Organizations(t.Context(), u.ID)
		require.NoError(t, err)
		require.Equal(t, []domain.Organization{{ID: initechID, Alias: "initech", Name: "Initech Corp", TenantID: "tenant-2"}}, orgs)

		in.Organizations = nil
		_, err = env.Users.SyncIdentity(t.Context(), in)
		require.NoError(t, err)
		orgs, err = env.Users.Organizations(t.Context(), u.ID)
		require.NoError(t, err)
		require.Empty(t, orgs)
	})

	t.Run("case=the IdP's organization id is learnt, kept and replaced", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		in := identity(base)
		in.Organizations = []domain.Organization{{Alias: "acme"}}
		u, err := env.Users.SyncIdentity(t.Context(), in)
		require.NoError(t, err)
		orgs, err := env.Users.Organizations(t.Context(), u.ID)
		require.NoError(t, err)
		key := orgs[0].ID
		require.Empty(t, orgs[0].ExternalID)

		sync := func(o domain.Organization) domain.Organization {
			t.Helper()
			in.Organizations = []domain.Organization{o}
			_, err := env.Users.SyncIdentity(t.Context(), in)
			require.NoError(t, err)
			orgs, err := env.Users.Organizations(t.Context(), u.ID)
			require.NoError(t, err)
			require.Len(t, orgs, 1)
			require.Equal(t, key, orgs[0].ID, "authbff's key never changes, so sessions keep their organization")
			return orgs[0]
		}
		require.Equal(t, "kc-1", sync(domain.Organization{Alias: "acme", ExternalID: "kc-1"}).ExternalID, "learnt")
		require.Equal(t, "kc-1", sync(domain.Organization{Alias: "acme"}).ExternalID, "kept when a sync does not know it")
		require.Equal(t, "kc-2", sync(domain.Organization{Alias: "acme", ExternalID: "kc-2"}).ExternalID,
			"replaced when the IdP says otherwise (the organization was re-created)")

		// The session lookup reads the same id.
		_, token := newSession(t, env, u.ID, base, func(r *domain.SessionRecord) { r.ActiveOrganizationID = key })
		view, err := env.Sessions.Lookup(t.Context(), token.Hash())
		require.NoError(t, err)
		require.Equal(t, []domain.Organization{{ID: key, ExternalID: "kc-2", Alias: "acme"}}, view.Organizations)
	})

	t.Run("case=users share organizations by alias", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		alice := newUser(t, env, func(in *ports.IdentitySync) {
			in.Organizations = []domain.Organization{{Alias: "acme", Name: "Acme"}, {ExternalID: "kc-globex", Alias: "globex"}}
		})
		in := identity(base)
		in.Organizations = []domain.Organization{{Alias: "acme"}, {Alias: "globex"}}
		bob, err := env.Users.SyncIdentity(t.Context(), in)
		require.NoError(t, err)

		a, err := env.Users.Organizations(t.Context(), alice.ID)
		require.NoError(t, err)
		b, err := env.Users.Organizations(t.Context(), bob.ID)
		require.NoError(t, err)
		require.Equal(t, a, b)
		require.Equal(t, "kc-globex", b[1].ExternalID, "a sync without the IdP's id keeps the known one")
		require.Equal(t, "Acme", b[0].Name)

		// Bob leaving both does not remove Alice's memberships.
		in.Organizations, in.Now = nil, base.Add(time.Hour)
		_, err = env.Users.SyncIdentity(t.Context(), in)
		require.NoError(t, err)
		b, err = env.Users.Organizations(t.Context(), bob.ID)
		require.NoError(t, err)
		require.Empty(t, b)
		a2, err := env.Users.Organizations(t.Context(), alice.ID)
		require.NoError(t, err)
		require.Equal(t, a, a2)
	})

	t.Run("case=concurrent syncs of different users sharing roles and organizations all succeed", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		roles := []domain.Role{
			{Name: "a", Source: domain.RoleSourceRealm}, {Name: "b", Source: domain.RoleSourceRealm},
			{Name: "c", Source: domain.RoleSourceOrganization}, {Name: "d", Source: domain.ClientRoleSource("web")},
		}
		orgs := []domain.Organization{{Alias: "acme"}, {Alias: "globex"}, {Alias: "initech"}, {ID: "kc-hooli", Alias: "hooli"}}
		// Half of the organizations exist before, half are new to everyone.
		newUser(t, env, func(in *ports.IdentitySync) { in.Roles, in.Organizations = roles[:2], orgs[:2] })

		const workers = 12
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		ids := make(chan string, workers)
		for i := 0; i < workers; i++ {
			// Claims list the same sets in different orders.
			in := identity(base)
			in.Roles, in.Organizations = rotate(roles, i), rotate(orgs, workers-i)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for round := 0; round < 3; round++ { // sign-in, then refreshes
					u, err := env.Users.SyncIdentity(t.Context(), in)
					if err != nil {
						errs <- err
						return
					}
					if round == 0 {
						ids <- u.ID
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		close(ids)
		for err := range errs {
			require.NoError(t, err)
		}
		var want []string
		for id := range ids {
			got, err := env.Users.Organizations(t.Context(), id)
			require.NoError(t, err)
			if want == nil {
				want = aliases(got)
				require.Equal(t, []string{"acme", "globex", "hooli", "initech"}, want)
			}
			require.Equal(t, want, aliases(got))
			r, err := env.Users.Roles(t.Context(), id)
			require.NoError(t, err)
			require.Len(t, r, len(roles))
		}
	})

	t.Run("case=count users counts each user once", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		n, err := env.Users.CountUsers(t.Context())
		require.NoError(t, err)
		require.Zero(t, n)
		in := identity(base)
		for range 2 { // a second sign-in of the same identity is the same user
			_, err := env.Users.SyncIdentity(t.Context(), in)
			require.NoError(t, err)
		}
		newUser(t, env)
		n, err = env.Users.CountUsers(t.Context())
		require.NoError(t, err)
		require.EqualValues(t, 2, n)
	})

	t.Run("case=roles and organizations of an unknown user are empty", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		newUser(t, env, func(in *ports.IdentitySync) {
			in.Roles = []domain.Role{{Name: "admin", Source: domain.RoleSourceRealm}}
			in.Organizations = []domain.Organization{{Alias: "acme"}}
		})
		for _, id := range []string{domain.NewID(), "not-a-uuid", ""} {
			roles, err := env.Users.Roles(t.Context(), id)
			require.NoError(t, err, "id %q", id)
			require.Empty(t, roles)
			orgs, err := env.Users.Organizations(t.Context(), id)
			require.NoError(t, err, "id %q", id)
			require.Empty(t, orgs)
		}
	})
}

func aliases(orgs []domain.Organization) []string {
	out := make([]string, 0, len(orgs))
	for _, o := range orgs {
		out = append(out, o.Alias)
	}
	return out
}

// rotate returns a copy of s rotated left by n.
func rotate[T any](s []T, n int) []T {
	n %= len(s)
	return append(append([]T(nil), s[n:]...), s[:n]...)
}
