package contract

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
)

// LoginFlowStore checks an implementation of ports.LoginFlowStore.
func LoginFlowStore(t *testing.T, newEnv func(t *testing.T) Env) {
	t.Run("case=save then consume round-trips every field", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		f := loginFlow(base)
		require.NoError(t, env.LoginFlows.Save(t.Context(), f, 0))

		got, err := env.LoginFlows.Consume(t.Context(), f.State, f.BrowserBinding, base.Add(time.Minute))
		require.NoError(t, err)
		require.Equal(t, normFlow(f), normFlow(got))
	})

	t.Run("case=save of a used state returns ErrConflict", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		f := loginFlow(base)
		require.NoError(t, env.LoginFlows.Save(t.Context(), f, 0))
		g := loginFlow(base)
		g.State = f.State
		require.ErrorIs(t, env.LoginFlows.Save(t.Context(), g, 0), domain.ErrConflict)

		got, err := env.LoginFlows.Consume(t.Context(), f.State, f.BrowserBinding, base)
		require.NoError(t, err)
		require.Equal(t, f.Nonce, got.Nonce, "the first flow is untouched")
	})

	t.Run("case=a flow is consumed once", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		f := loginFlow(base)
		require.NoError(t, env.LoginFlows.Save(t.Context(), f, 0))
		_, err := env.LoginFlows.Consume(t.Context(), f.State, f.BrowserBinding, base)
		require.NoError(t, err)
		_, err = env.LoginFlows.Consume(t.Context(), f.State, f.BrowserBinding, base)
		require.ErrorIs(t, err, domain.ErrLoginFlowNotFound)
		n, err := env.LoginFlows.CountPending(t.Context(), base.Add(-time.Hour))
		require.NoError(t, err)
		require.Zero(t, n)
	})

	t.Run("case=another browser's binding returns ErrLoginFlowNotFound and leaves the flow", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		f := loginFlow(base)
		require.NoError(t, env.LoginFlows.Save(t.Context(), f, 0))

		for _, b := range []domain.TokenHash{domain.HashSecret("other browser"), "", domain.TokenHash(f.State)} {
			_, err := env.LoginFlows.Consume(t.Context(), f.State, b, base)
			require.ErrorIs(t, err, domain.ErrLoginFlowNotFound, "binding %q", b)
		}
		got, err := env.LoginFlows.Consume(t.Context(), f.State, f.BrowserBinding, base)
		require.NoError(t, err, "the flow is left for its own browser")
		require.Equal(t, f.State, got.State)
	})

	t.Run("case=an unknown state returns ErrLoginFlowNotFound", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		f := loginFlow(base)
		require.NoError(t, env.LoginFlows.Save(t.Context(), f, 0))
		for _, state := range []string{"unknown", "", f.State + "x"} {
			_, err := env.LoginFlows.Consume(t.Context(), state, f.BrowserBinding, base)
			require.ErrorIs(t, err, domain.ErrLoginFlowNotFound, "state %q", state)
		}
	})

	t.Run("case=an expired flow returns ErrLoginFlowExpired and is removed", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		atExpiry := loginFlow(now.Add(-domain.LoginFlowTTL)) // expires exactly now
		past := loginFlow(now.Add(-time.Hour))
		live := loginFlow(now.Add(-domain.LoginFlowTTL + time.Microsecond))
		for _, f := range []domain.LoginFlow{atExpiry, past, live} {
			require.NoError(t, env.LoginFlows.Save(t.Context(), f, 0))
		}

		for _, f := range []domain.LoginFlow{atExpiry, past} {
			_, err := env.LoginFlows.Consume(t.Context(), f.State, f.BrowserBinding, now)
			require.ErrorIs(t, err, domain.ErrLoginFlowExpired)
			_, err = env.LoginFlows.Consume(t.Context(), f.State, f.BrowserBinding, now.Add(-2*time.Hour))
			require.ErrorIs(t, err, domain.ErrLoginFlowNotFound, "an expired flow is removed when consumed")
		}
		n, err := env.LoginFlows.CountPending(t.Context(), base.Add(-time.Hour))
		require.NoError(t, err)
		require.EqualValues(t, 1, n)
		_, err = env.LoginFlows.Consume(t.Context(), live.State, live.BrowserBinding, now)
		require.NoError(t, err)
	})

	t.Run("case=an expired flow of another browser is left alone", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		f := loginFlow(now.Add(-time.Hour))
		require.NoError(t, env.LoginFlows.Save(t.Context(), f, 0))
		_, err := env.LoginFlows.Consume(t.Context(), f.State, domain.HashSecret("intruder"), now)
		require.ErrorIs(t, err, domain.ErrLoginFlowNotFound, "a wrong binding learns nothing about expiry")
		n, err := env.LoginFlows.CountPending(t.Context(), base.Add(-time.Hour))
		require.NoError(t, err)
		require.EqualValues(t, 1, n)
	})

	t.Run("case=times in any zone compare as instants", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		tokyo, newYork := time.FixedZone("UTC+9", 9*3600), time.FixedZone("UTC-5", -5*3600)
		live := loginFlow(now.Add(-time.Minute).In(newYork))
		dead := loginFlow(now.Add(-time.Hour).In(tokyo))
		require.NoError(t, env.LoginFlows.Save(t.Context(), live, 0))
		require.NoError(t, env.LoginFlows.Save(t.Context(), dead, 0))

		n, err := env.LoginFlows.DeleteExpired(t.Context(), now.In(newYork), 10)
		require.NoError(t, err)
		require.EqualValues(t, 1, n)
		got, err := env.LoginFlows.Consume(t.Context(), live.State, live.BrowserBinding, now.In(tokyo))
		require.NoError(t, err)
		require.Equal(t, normFlow(live), normFlow(got))
	})

	t.Run("case=concurrent consumes of one flow succeed once", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		f := loginFlow(base)
		require.NoError(t, env.LoginFlows.Save(t.Context(), f, 0))

		const callers = 10
		var wg sync.WaitGroup
		errs := make(chan error, callers)
		for i := 0; i < callers; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := env.LoginFlows.Consume(t.Context(), f.State, f.BrowserBinding, base)
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		ok := 0
		for err := range errs {
			if err == nil {
				ok++
				continue
			}
			require.True(t, errors.Is(err, domain.ErrLoginFlowNotFound), "unexpected error %v", err)
		}
		require.Equal(t, 1, ok)
	})

	t.Run("case=count and delete expired in batches", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		n, err := env.LoginFlows.CountPending(t.Context(), now)
		require.NoError(t, err)
		require.Zero(t, n)

		var live []domain.LoginFlow
		for i := 0; i < 5; i++ { // expired: the last one exactly at now
			require.NoError(t, env.LoginFlows.Save(t.Context(), loginFlow(now.Add(-domain.LoginFlowTTL-time.Duration(4-i)*time.Minute)), 0))
		}
		for i := 0; i < 2; i++ {
			f := loginFlow(now.Add(-time.Duration(i) * time.Minute))
			live = append(live, f)
			require.NoError(t, env.LoginFlows.Save(t.Context(), f, 0))
		}
		n, err = env.LoginFlows.CountPending(t.Context(), now)
		require.NoError(t, err)
		require.EqualValues(t, 2, n, "expired flows awaiting cleanup do not count")
		n, err = env.LoginFlows.CountPending(t.Context(), now.Add(-time.Hour))
		require.NoError(t, err)
		require.EqualValues(t, 7, n, "an hour earlier all seven were pending")

		var batches []int64
		for {
			n, err := env.LoginFlows.DeleteExpired(t.Context(), now, 2)
			require.NoError(t, err)
			batches = append(batches, n)
			if n < 2 {
				break
			}
			require.Less(t, len(batches), 10)
		}
		require.Equal(t, []int64{2, 2, 1}, batches)
		n, err = env.LoginFlows.CountPending(t.Context(), base.Add(-time.Hour))
		require.NoError(t, err)
		require.EqualValues(t, 2, n)
		for _, f := range live {
			_, err := env.LoginFlows.Consume(t.Context(), f.State, f.BrowserBinding, now)
			require.NoError(t, err)
		}
	})

	t.Run("case=save refuses past the cap and expired flows do not count", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		const limit = 3
		for i := 0; i < 2; i++ { // expired at now: awaiting cleanup, not pending
			require.NoError(t, env.LoginFlows.Save(t.Context(), loginFlow(now.Add(-domain.LoginFlowTTL-time.Minute)), limit))
		}
		var live []domain.LoginFlow
		for i := 0; i < limit; i++ {
			f := loginFlow(now)
			live = append(live, f)
			require.NoError(t, env.LoginFlows.Save(t.Context(), f, limit), "flow %d of %d", i+1, limit)
		}
		require.ErrorIs(t, env.LoginFlows.Save(t.Context(), loginFlow(now), limit), ports.ErrTooManyPendingLoginFlows)
		require.NoError(t, env.LoginFlows.Save(t.Context(), loginFlow(now), 0), "no cap without a limit")
		_, err := env.LoginFlows.Consume(t.Context(), live[0].State, live[0].BrowserBinding, now)
		require.NoError(t, err)
		require.ErrorIs(t, env.LoginFlows.Save(t.Context(), loginFlow(now), limit), ports.ErrTooManyPendingLoginFlows,
			"still three pending (two of the first three and the uncapped one)")
		_, err = env.LoginFlows.Consume(t.Context(), live[1].State, live[1].BrowserBinding, now)
		require.NoError(t, err)
		require.NoError(t, env.LoginFlows.Save(t.Context(), loginFlow(now), limit), "a consumed flow frees its place")
	})

	t.Run("case=concurrent saves never pass the cap", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		const limit, callers = 10, 40
		saved := SaveAtOnce(t, []ports.LoginFlowStore{env.LoginFlows}, callers, limit, now)
		n, err := env.LoginFlows.CountPending(t.Context(), now)
		require.NoError(t, err)
		require.EqualValues(t, limit, n, "pending flows after %d concurrent saves with a cap of %d", callers, limit)
		require.Equal(t, limit, saved)
	})
}

// SaveAtOnce saves perStore fresh flows started at now through each of
// stores, all at the same moment, with a cap of limit, and returns how many
// were saved; every other save must be refused as over the cap.
func SaveAtOnce(t *testing.T, stores []ports.LoginFlowStore, perStore, limit int, now time.Time) int {
	t.Helper()
	start := make(chan struct{})
	errs := make(chan error, len(stores)*perStore)
	var wg sync.WaitGroup
	for _, flows := range stores {
		for range perStore {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs <- flows.Save(t.Context(), loginFlow(now), int64(limit))
			}()
		}
	}
	close(start)
	wg.Wait()
	close(errs)
	saved := 0
	for err := range errs {
		if err == nil {
			saved++
			continue
		}
		require.ErrorIs(t, err, ports.ErrTooManyPendingLoginFlows)
	}
	return saved
}

// loginFlow returns a flow started at created with fresh random values.
func loginFlow(created time.Time) domain.LoginFlow {
	return domain.LoginFlow{
		State:          string(domain.NewSessionToken()),
		Nonce:          string(domain.NewSessionToken()),
		PKCEVerifier:   string(domain.NewSessionToken()) + string(domain.NewSessionToken()),
		Provider:       "keycloak",
		Issuer:         "https://idp.example.com/realms/app",
		RedirectURI:    "https://app.example.com/api/auth/callback/keycloak",
		CallbackURL:    "https://app.example.com/dashboard?tab=1&x=%20",
		BrowserBinding: domain.HashSecret(domain.NewID()),
		CreatedAt:      created,
		Expires:        created.Add(domain.LoginFlowTTL),
	}
}

func normFlow(f domain.LoginFlow) domain.LoginFlow {
	f.CreatedAt, f.Expires = micro(f.CreatedAt), micro(f.Expires)
	return f
}
