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

// sessionLease checks the refresh-lease methods of ports.SessionStore: taken
// only when free, expired or already the caller's; never blocking other
// writes; stored-under and released only by its holder.
func sessionLease(t *testing.T, newEnv func(t *testing.T) Env) {
	const ttl = 45 * time.Second

	t.Run("case=lease is taken when free and returns the stored session", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		s, _ := newSession(t, env, newUser(t, env).ID, base, withTokens)
		got, err := env.Sessions.AcquireRefreshLease(t.Context(), s.ID(), "a", now, now.Add(ttl))
		require.NoError(t, err)
		requireSameSession(t, got, s)
		// The holder may take it again (a renewal); nobody else may.
		_, err = env.Sessions.AcquireRefreshLease(t.Context(), s.ID(), "a", now, now.Add(ttl))
		require.NoError(t, err)
		_, err = env.Sessions.AcquireRefreshLease(t.Context(), s.ID(), "b", now.Add(ttl-time.Microsecond), now.Add(2*ttl))
		require.ErrorIs(t, err, ports.ErrRefreshLeaseHeld)
	})

	t.Run("case=an expired lease is free, at its expiry exactly", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		s, _ := newSession(t, env, newUser(t, env).ID, base)
		_, err := env.Sessions.AcquireRefreshLease(t.Context(), s.ID(), "crashed", now, now.Add(ttl))
		require.NoError(t, err)
		_, err = env.Sessions.AcquireRefreshLease(t.Context(), s.ID(), "b", now.Add(ttl), now.Add(2*ttl))
		require.NoError(t, err, "taken over at the expiry")
		// The crashed holder can neither store nor release the new holder's lease.
		err = env.Sessions.UpdateUnderLease(t.Context(), s.ID(), "crashed", func(*domain.Session) error {
			t.Error("callback must not run for a lost lease")
			return nil
		})
		require.ErrorIs(t, err, ports.ErrRefreshLeaseLost)
		require.NoError(t, env.Sessions.ReleaseRefreshLease(t.Context(), s.ID(), "crashed"))
		_, err = env.Sessions.AcquireRefreshLease(t.Context(), s.ID(), "c", now.Add(ttl), now.Add(2*ttl))
		require.ErrorIs(t, err, ports.ErrRefreshLeaseHeld, "b still holds it")
	})

	t.Run("case=release frees the lease for the next holder", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		s, _ := newSession(t, env, newUser(t, env).ID, base)
		_, err := env.Sessions.AcquireRefreshLease(t.Context(), s.ID(), "a", now, now.Add(ttl))
		require.NoError(t, err)
		require.NoError(t, env.Sessions.ReleaseRefreshLease(t.Context(), s.ID(), "b"), "not b's: no-op, no error")
		_, err = env.Sessions.AcquireRefreshLease(t.Context(), s.ID(), "b", now, now.Add(ttl))
		require.ErrorIs(t, err, ports.ErrRefreshLeaseHeld)
		require.NoError(t, env.Sessions.ReleaseRefreshLease(t.Context(), s.ID(), "a"))
		require.NoError(t, env.Sessions.ReleaseRefreshLease(t.Context(), s.ID(), "a"), "twice is fine")
		_, err = env.Sessions.AcquireRefreshLease(t.Context(), s.ID(), "b", now, now.Add(ttl))
		require.NoError(t, err)
	})

	t.Run("case=update under lease writes, frees the lease, and only for its holder", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		s, token := newSession(t, env, newUser(t, env).ID, base, withTokens)
		_, err := env.Sessions.AcquireRefreshLease(t.Context(), s.ID(), "a", now, now.Add(ttl))
		require.NoError(t, err)
		fresh := domain.SealedTokens{AccessToken: []byte("at-2"), RefreshToken: []byte("rt-2"), IDToken: []byte("id-2"),
			AccessTokenExpiresAt: base.Add(10 * time.Minute), Scope: "openid"}
		err = env.Sessions.UpdateUnderLease(t.Context(), s.ID(), "b", func(*domain.Session) error {
			t.Error("callback must not run for a lease b does not hold")
			return nil
		})
		require.ErrorIs(t, err, ports.ErrRefreshLeaseLost)
		require.NoError(t, env.Sessions.UpdateUnderLease(t.Context(), s.ID(), "a", func(got *domain.Session) error {
			requireSameSession(t, got, s)
			got.ReplaceTokens(fresh, base.Add(time.Minute))
			return nil
		}))
		view, err := env.Sessions.Lookup(t.Context(), token.Hash())
		require.NoError(t, err)
		require.Equal(t, normTokens(fresh), normTokens(view.Session.Tokens()))
		_, err = env.Sessions.AcquireRefreshLease(t.Context(), s.ID(), "b", now, now.Add(ttl))
		require.NoError(t, err, "the store freed the lease")
		err = env.Sessions.UpdateUnderLease(t.Context(), s.ID(), "a", func(*domain.Session) error { return nil })
		require.ErrorIs(t, err, ports.ErrRefreshLeaseLost, "a's lease ended with its store")
	})

	t.Run("case=update under lease: an expired lease nobody took still counts", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		s, _ := newSession(t, env, newUser(t, env).ID, base)
		_, err := env.Sessions.AcquireRefreshLease(t.Context(), s.ID(), "slow", now, now.Add(time.Second))
		require.NoError(t, err)
		require.NoError(t, env.Sessions.UpdateUnderLease(t.Context(), s.ID(), "slow", func(*domain.Session) error { return nil }))
	})

	t.Run("case=update under lease returns the callback's error, writes nothing, keeps the lease", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		s, token := newSession(t, env, newUser(t, env).ID, base, withTokens)
		_, err := env.Sessions.AcquireRefreshLease(t.Context(), s.ID(), "a", now, now.Add(ttl))
		require.NoError(t, err)
		boom := errors.New("boom")
		err = env.Sessions.UpdateUnderLease(t.Context(), s.ID(), "a", func(got *domain.Session) error {
			got.ReplaceTokens(domain.SealedTokens{AccessToken: []byte("lost")}, base)
			return boom
		})
		require.ErrorIs(t, err, boom)
		view, err := env.Sessions.Lookup(t.Context(), token.Hash())
		require.NoError(t, err)
		require.Equal(t, normTokens(s.Tokens()), normTokens(view.Session.Tokens()))
		_, err = env.Sessions.AcquireRefreshLease(t.Context(), s.ID(), "b", now, now.Add(ttl))
		require.ErrorIs(t, err, ports.ErrRefreshLeaseHeld)
	})

	t.Run("case=a held lease blocks no other write and survives plain updates", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		s, token := newSession(t, env, newUser(t, env).ID, base)
		_, err := env.Sessions.AcquireRefreshLease(t.Context(), s.ID(), "a", now, now.Add(ttl))
		require.NoError(t, err)
		require.NoError(t, env.Sessions.Update(t.Context(), s.ID(), func(got *domain.Session) error {
			got.Touch(domain.DefaultSessionPolicy(), base.Add(2*time.Hour))
			return nil
		}))
		_, err = env.Sessions.Lookup(t.Context(), token.Hash())
		require.NoError(t, err)
		_, err = env.Sessions.AcquireRefreshLease(t.Context(), s.ID(), "b", now, now.Add(ttl))
		require.ErrorIs(t, err, ports.ErrRefreshLeaseHeld, "Update does not clear the lease")
		require.NoError(t, env.Sessions.UpdateUnderLease(t.Context(), s.ID(), "a", func(*domain.Session) error { return nil }))
	})

	t.Run("case=unknown session: not found, release is a no-op", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		for _, id := range []string{domain.NewID(), "not-a-uuid"} {
			_, err := env.Sessions.AcquireRefreshLease(t.Context(), id, "a", now, now.Add(ttl))
			require.ErrorIs(t, err, domain.ErrSessionNotFound, "id %q", id)
			require.NoError(t, env.Sessions.ReleaseRefreshLease(t.Context(), id, "a"), "id %q", id)
			err = env.Sessions.UpdateUnderLease(t.Context(), id, "a", func(*domain.Session) error { return nil })
			require.ErrorIs(t, err, domain.ErrSessionNotFound, "id %q", id)
		}
		// A deleted session takes its lease with it.
		s, _ := newSession(t, env, newUser(t, env).ID, base)
		_, err := env.Sessions.AcquireRefreshLease(t.Context(), s.ID(), "a", now, now.Add(ttl))
		require.NoError(t, err)
		require.NoError(t, env.Sessions.Delete(t.Context(), s.ID()))
		err = env.Sessions.UpdateUnderLease(t.Context(), s.ID(), "a", func(*domain.Session) error { return nil })
		require.ErrorIs(t, err, domain.ErrSessionNotFound)
	})

	t.Run("case=concurrent takers: exactly one wins", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		s, _ := newSession(t, env, newUser(t, env).ID, base)
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = env.Sessions.AcquireRefreshLease(t.Context(), s.ID(), "owner-"+strconv.Itoa(i), now, now.Add(ttl))
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			if err == nil {
				won++
				continue
			}
			require.ErrorIs(t, err, ports.ErrRefreshLeaseHeld)
		}
		require.Equal(t, 1, won)
	})
}

// withTokens gives a new session sealed tokens, so round trips compare them.
func withTokens(r *domain.SessionRecord) {
	r.Tokens = domain.SealedTokens{AccessToken: []byte("at-1"), RefreshToken: []byte("rt-1"), IDToken: []byte("id-1"),
		AccessTokenExpiresAt: base.Add(5 * time.Minute), RefreshTokenExpiresAt: base.Add(30 * time.Minute), Scope: "openid profile"}
}

// normTokens makes sealed tokens comparable across stores.
func normTokens(t domain.SealedTokens) domain.SealedTokens {
	return normRecord(domain.SessionRecord{Tokens: t}).Tokens
}
