package contract

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
)

// SessionMaintenance checks an implementation of ports.SessionMaintenance.
// Sessions are made through env.Sessions and read back through it.
func SessionMaintenance(t *testing.T, newEnv func(t *testing.T) Env) {
	t.Run("case=delete expired removes exactly the idle or absolute expired sessions", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		user := newUser(t, env)
		active, _ := newSession(t, env, user.ID, now)
		// Idle expiry one microsecond after now: still active.
		justActive, _ := newSession(t, env, user.ID, now, func(r *domain.SessionRecord) { r.Expires = now.Add(time.Microsecond) })
		idle, _ := newSession(t, env, user.ID, now.Add(-9*time.Hour)) // expires now-1h, absolute now+15h
		idleAtNow, _ := newSession(t, env, user.ID, now, func(r *domain.SessionRecord) { r.Expires = now })
		absolute, _ := newSession(t, env, user.ID, now.Add(-30*time.Hour), func(r *domain.SessionRecord) {
			r.Expires = now.Add(time.Hour) // slid forward, but past its absolute cap
		})
		absoluteAtNow, _ := newSession(t, env, user.ID, now.Add(-24*time.Hour), func(r *domain.SessionRecord) {
			r.Expires, r.AbsoluteExpires = now.Add(time.Hour), now
		})
		require.False(t, idle.IsActive(now))
		require.False(t, absolute.IsActive(now))

		n, err := env.Maintenance.DeleteExpired(t.Context(), now, 100)
		require.NoError(t, err)
		require.EqualValues(t, 4, n)

		got, err := env.Sessions.ListByUser(t.Context(), user.ID)
		require.NoError(t, err)
		require.ElementsMatch(t, []string{active.ID(), justActive.ID()}, sessionIDs(got))
		for _, gone := range []*domain.Session{idle, idleAtNow, absolute, absoluteAtNow} {
			_, err := env.Sessions.Lookup(t.Context(), gone.TokenHash())
			require.ErrorIs(t, err, domain.ErrSessionNotFound)
		}

		n, err = env.Maintenance.DeleteExpired(t.Context(), now, 100)
		require.NoError(t, err)
		require.EqualValues(t, 0, n)
	})

	t.Run("case=delete expired works in batches of limit", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		alice := newUser(t, env)
		bob := newUser(t, env)
		for i := 0; i < 7; i++ {
			owner := alice
			if i%2 == 1 {
				owner = bob
			}
			newSession(t, env, owner.ID, now.Add(-time.Duration(9+i)*time.Hour))
		}
		keepA, _ := newSession(t, env, alice.ID, now)
		keepB, _ := newSession(t, env, bob.ID, now.Add(-time.Hour))

		var batches []int64
		for {
			n, err := env.Maintenance.DeleteExpired(t.Context(), now, 3)
			require.NoError(t, err)
			batches = append(batches, n)
			if n < 3 {
				break
			}
			require.Less(t, len(batches), 10, "DeleteExpired does not converge")
		}
		require.Equal(t, []int64{3, 3, 1}, batches)

		st, err := env.Maintenance.Stats(t.Context(), now)
		require.NoError(t, err)
		require.EqualValues(t, 2, st.Total)
		gotA, err := env.Sessions.ListByUser(t.Context(), alice.ID)
		require.NoError(t, err)
		require.Equal(t, []string{keepA.ID()}, sessionIDs(gotA))
		gotB, err := env.Sessions.ListByUser(t.Context(), bob.ID)
		require.NoError(t, err)
		require.Equal(t, []string{keepB.ID()}, sessionIDs(gotB))
	})

	t.Run("case=times in any zone compare as instants", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		tokyo, newYork := time.FixedZone("UTC+9", 9*3600), time.FixedZone("UTC-5", -5*3600)
		user := newUser(t, env)
		// As wall-clock text a Tokyo time reads 14 h later than the same
		// instant in New York: a store must compare instants, not text.
		active, _ := newSession(t, env, user.ID, now.Add(-7*time.Hour).In(tokyo))
		newSession(t, env, user.ID, now.Add(-9*time.Hour).In(newYork)) // expired an hour ago

		st, err := env.Maintenance.Stats(t.Context(), now.In(time.FixedZone("UTC+14", 14*3600)))
		require.NoError(t, err)
		require.EqualValues(t, 1, st.Active)
		require.EqualValues(t, 2, st.CreatedLast24h)
		n, err := env.Maintenance.DeleteExpired(t.Context(), now.In(newYork), 10)
		require.NoError(t, err)
		require.EqualValues(t, 1, n)
		got, err := env.Sessions.ListByUser(t.Context(), user.ID)
		require.NoError(t, err)
		require.Equal(t, []string{active.ID()}, sessionIDs(got))
		require.True(t, got[0].Expires().Equal(micro(active.Expires())))
	})

	t.Run("case=delete expired on an empty table removes nothing", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		n, err := env.Maintenance.DeleteExpired(t.Context(), now, 10)
		require.NoError(t, err)
		require.EqualValues(t, 0, n)
	})

	t.Run("case=stats of an empty table are zero", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		st, err := env.Maintenance.Stats(t.Context(), now)
		require.NoError(t, err)
		require.Zero(t, st.Total)
		require.Zero(t, st.Active)
		require.Zero(t, st.Expired)
		require.Zero(t, st.AverageDurationHours)
		require.Zero(t, st.CreatedLast24h)
		require.Empty(t, st.ActivePerOrganization)
	})

	t.Run("case=stats match counts computed from the sessions", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		orgs := []domain.Organization{
			{ID: "org-acme", Alias: "acme"},
			{Alias: "globex", TenantID: "t-globex"},
			{Alias: "initech"},
		}
		alice := newUser(t, env, func(in *ports.IdentitySync) { in.Organizations = orgs })
		bob := newUser(t, env, func(in *ports.IdentitySync) { in.Organizations = orgs[:2] })
		orgID := map[string]string{}
		got, err := env.Users.Organizations(t.Context(), alice.ID)
		require.NoError(t, err)
		for _, o := range got {
			orgID[o.Alias] = o.ID
		}

		type spec struct {
			user    string
			created time.Time
			org     string // alias, "" for none
			expires time.Time
			abs     time.Time // zero: the policy's
		}
		specs := []spec{
			{alice.ID, now, "acme", time.Time{}, time.Time{}},
			{alice.ID, now.Add(-2 * time.Hour), "acme", time.Time{}, time.Time{}},
			{bob.ID, now.Add(-3 * time.Hour), "acme", time.Time{}, time.Time{}},
			{bob.ID, now.Add(-90 * time.Minute), "globex", time.Time{}, time.Time{}},
			{alice.ID, now.Add(-30 * time.Minute), "", time.Time{}, time.Time{}},
			// Expired by idle time, still within 24 h of creation.
			{alice.ID, now.Add(-10 * time.Hour), "acme", time.Time{}, time.Time{}},
			// Expired at exactly now.
			{bob.ID, now.Add(-8 * time.Hour), "globex", time.Time{}, time.Time{}},
			// Slid forward but past its absolute cap.
			{alice.ID, now.Add(-30 * time.Hour), "initech", now.Add(2 * time.Hour), now.Add(-6 * time.Hour)},
			// Old and long expired.
			{bob.ID, now.Add(-72 * time.Hour), "", time.Time{}, time.Time{}},
			// Renewed several times, created 20 h ago, active.
			{alice.ID, now.Add(-20 * time.Hour), "initech", now.Add(3*time.Hour + 17*time.Minute), time.Time{}},
		}
		var want domain.SessionStats
		want.ActivePerOrganization = map[string]int64{}
		var sumHours float64
		for _, sp := range specs {
			s, _ := newSession(t, env, sp.user, sp.created, func(r *domain.SessionRecord) {
				if sp.org != "" {
					r.ActiveOrganizationID = orgID[sp.org]
				}
				if !sp.expires.IsZero() {
					r.Expires = sp.expires
				}
				if !sp.abs.IsZero() {
					r.AbsoluteExpires = sp.abs
				}
			})
			want.Total++
			if s.Expires().After(now) && s.AbsoluteExpires().After(now) {
				want.Active++
				if sp.org != "" {
					want.ActivePerOrganization[sp.org]++
				}
			} else {
				want.Expired++
			}
			if s.CreatedAt().After(now.Add(-24 * time.Hour)) {
				want.CreatedLast24h++
			}
			sumHours += s.Expires().Sub(s.CreatedAt()).Hours()
		}
		want.AverageDurationHours = sumHours / float64(len(specs))
		require.EqualValues(t, 10, want.Total)
		require.EqualValues(t, 6, want.Active)
		require.EqualValues(t, 8, want.CreatedLast24h)
		require.Equal(t, map[string]int64{"acme": 3, "globex": 1, "initech": 1}, want.ActivePerOrganization)

		st, err := env.Maintenance.Stats(t.Context(), now)
		require.NoError(t, err)
		require.InDelta(t, want.AverageDurationHours, st.AverageDurationHours, 1e-4)
		st.AverageDurationHours = want.AverageDurationHours
		require.Equal(t, want, st)
	})
}
