package application_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/application"
	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
	"github.com/authbff/authbff/test/fake"
)

// These tests pin the refresh lease: the session's refresh is serialised
// across processes by a lease taken and released in short store calls, so
// the IdP is called with nothing of the database held.

// rotated is the IdP's answer to a good refresh.
func (w *world) rotated() (ports.Identity, ports.TokenSet, error) {
	return bob, ports.TokenSet{AccessToken: "access-2", RefreshToken: "refresh-2", AccessTokenExpiresAt: w.now.Add(5 * time.Minute)}, nil
}

// requireLeaseFree checks that nobody holds the session's lease, by taking
// and releasing it as another process would.
func requireLeaseFree(t *testing.T, w *world, id string) {
	t.Helper()
	_, err := w.sessions.AcquireRefreshLease(context.Background(), id, "probe", w.now, w.now.Add(time.Minute))
	require.NoError(t, err, "the lease is free")
	require.NoError(t, w.sessions.ReleaseRefreshLease(context.Background(), id, "probe"))
}

// heldSignal is the fake store that also reports, once, that a refresh
// found the lease held, so a test acts only after the handler is waiting.
type heldSignal struct {
	*fake.SessionStore
	once sync.Once
	held chan struct{}
}

func (s *heldSignal) AcquireRefreshLease(ctx context.Context, id, owner string, now, until time.Time) (*domain.Session, error) {
	sess, err := s.SessionStore.AcquireRefreshLease(ctx, id, owner, now, until)
	if errors.Is(err, ports.ErrRefreshLeaseHeld) {
		s.once.Do(func() { close(s.held) })
	}
	return sess, err
}

// waitingTokens is w.tokens() on a store that signals a held lease.
func (w *world) waitingTokens() (*application.GetAccessTokenHandler, <-chan struct{}) {
	st := &heldSignal{SessionStore: w.sessions, held: make(chan struct{})}
	return application.NewGetAccessTokenHandler(w.idp, st, w.users, fake.TokenCipher{}, ports.NopObserver{},
		func() time.Time { return w.now }, discardLog(), nil), st.held
}

func TestRefreshCallsTheIdPHoldingTheLeaseButNoLock(t *testing.T) {
	w := newWorld(t)
	info, token := w.signedIn(t)
	w.now = w.now.Add(10 * time.Minute)
	id := info.Session.ID()
	var duringCall error
	var heldDuringCall error
	w.idp.RefreshFunc = func(string) (ports.Identity, ports.TokenSet, error) {
		// Another process's refresh finds the lease taken...
		_, heldDuringCall = w.sessions.AcquireRefreshLease(context.Background(), id, "other-process", w.now, w.now.Add(time.Minute))
		// ...while an unrelated write to the same session goes through: the
		// old design held the row lock here, and this Update would block.
		done := make(chan error, 1)
		go func() {
			done <- w.sessions.Update(context.Background(), id, func(s *domain.Session) error {
				s.Touch(domain.DefaultSessionPolicy(), w.now.Add(time.Hour))
				return nil
			})
		}()
		select {
		case duringCall = <-done:
		case <-time.After(10 * time.Second): // a deadlock detector, not a timing assertion
			duringCall = errors.New("Update blocked behind the IdP call")
		}
		return w.rotated()
	}
	tok, err := w.tokens().Handle(context.Background(), application.GetAccessToken{Session: info.Session})
	require.NoError(t, err)
	require.Equal(t, "access-2", tok.Value)
	require.True(t, tok.Refreshed)
	require.ErrorIs(t, heldDuringCall, ports.ErrRefreshLeaseHeld, "the lease is held during the IdP call")
	require.NoError(t, duringCall, "the session row is not locked during the IdP call")
	requireLeaseFree(t, w, id)
	after, err := w.get.Handle(context.Background(), application.GetSession{Token: token})
	require.NoError(t, err)
	require.Equal(t, "sealed:refresh-2", string(after.Session.Tokens().RefreshToken))
}

func TestRefreshWaitsForAnotherHolderAndUsesItsTokens(t *testing.T) {
	w := newWorld(t)
	info, token := w.signedIn(t)
	w.now = w.now.Add(10 * time.Minute)
	id := info.Session.ID()
	// Another process holds the lease and is talking to the IdP.
	_, err := w.sessions.AcquireRefreshLease(context.Background(), id, "other-process", w.now, w.now.Add(time.Minute))
	require.NoError(t, err)
	type result struct {
		tok application.AccessToken
		err error
	}
	h, waiting := w.waitingTokens()
	done := make(chan result, 1)
	go func() {
		tok, err := h.Handle(context.Background(), application.GetAccessToken{Session: info.Session})
		done <- result{tok, err}
	}()
	<-waiting
	// The other process stores its refreshed tokens and frees the lease.
	require.NoError(t, w.sessions.UpdateUnderLease(context.Background(), id, "other-process", func(s *domain.Session) error {
		s.ReplaceTokens(domain.SealedTokens{AccessToken: []byte("sealed:access-other"), RefreshToken: []byte("sealed:refresh-other"),
			AccessTokenExpiresAt: w.now.Add(5 * time.Minute)}, w.now)
		return nil
	}))
	r := <-done
	require.NoError(t, r.err)
	require.Equal(t, "access-other", r.tok.Value, "the waiter re-read the session and used the other's tokens")
	require.False(t, r.tok.Refreshed)
	require.Zero(t, w.idp.RefreshCalls, "no second refresh")
	requireLeaseFree(t, w, id)
	after, err := w.get.Handle(context.Background(), application.GetSession{Token: token})
	require.NoError(t, err)
	require.Equal(t, "sealed:refresh-other", string(after.Session.Tokens().RefreshToken))
}

func TestRefreshAfterAnotherHolderFailedAnswersUnavailableWithoutRefreshing(t *testing.T) {
	w := newWorld(t)
	info, token := w.signedIn(t)
	w.now = w.now.Add(10 * time.Minute)
	id := info.Session.ID()
	_, err := w.sessions.AcquireRefreshLease(context.Background(), id, "other-process", w.now, w.now.Add(time.Minute))
	require.NoError(t, err)
	h, waiting := w.waitingTokens()
	done := make(chan error, 1)
	go func() {
		_, err := h.Handle(context.Background(), application.GetAccessToken{Session: info.Session})
		done <- err
	}()
	<-waiting
	// The other process's refresh failed (its IdP call timed out, perhaps
	// after the IdP rotated the token): it frees the lease, stores nothing.
	require.NoError(t, w.sessions.ReleaseRefreshLease(context.Background(), id, "other-process"))
	err = <-done
	require.ErrorIs(t, err, domain.ErrUnavailable)
	require.Zero(t, w.idp.RefreshCalls, "the same refresh token is not presented again right away")
	_, err = w.get.Handle(context.Background(), application.GetSession{Token: token})
	require.NoError(t, err, "session kept")
	requireLeaseFree(t, w, id)
}

func TestRefreshTakesOverTheLeaseOfACrashedHolder(t *testing.T) {
	w := newWorld(t)
	info, _ := w.signedIn(t)
	w.now = w.now.Add(10 * time.Minute)
	id := info.Session.ID()
	_, err := w.sessions.AcquireRefreshLease(context.Background(), id, "crashed-process", w.now, w.now.Add(45*time.Second))
	require.NoError(t, err)
	w.now = w.now.Add(time.Minute) // its lease has expired
	w.idp.RefreshFunc = func(string) (ports.Identity, ports.TokenSet, error) { return w.rotated() }
	tok, err := w.tokens().WithLeaseWait(time.Second).Handle(context.Background(), application.GetAccessToken{Session: info.Session})
	require.NoError(t, err)
	require.Equal(t, "access-2", tok.Value)
	require.Equal(t, 1, w.idp.RefreshCalls)
	// The crashed holder, should it come back, can store nothing.
	err = w.sessions.UpdateUnderLease(context.Background(), id, "crashed-process", func(*domain.Session) error { return nil })
	require.ErrorIs(t, err, ports.ErrRefreshLeaseLost)
	requireLeaseFree(t, w, id)
}

func TestLeaseWaitTimeoutAnswersUnavailableAndKeepsTheSession(t *testing.T) {
	w := newWorld(t)
	info, token := w.signedIn(t)
	w.now = w.now.Add(10 * time.Minute)
	id := info.Session.ID()
	_, err := w.sessions.AcquireRefreshLease(context.Background(), id, "stuck-process", w.now, w.now.Add(time.Minute))
	require.NoError(t, err)
	_, err = w.tokens().WithLeaseWait(200*time.Millisecond).Handle(context.Background(), application.GetAccessToken{Session: info.Session})
	require.ErrorIs(t, err, domain.ErrUnavailable)
	require.False(t, errors.Is(err, application.ErrRefreshRejected))
	require.Zero(t, w.idp.RefreshCalls)
	after, err := w.get.Handle(context.Background(), application.GetSession{Token: token})
	require.NoError(t, err, "session kept")
	require.Equal(t, info.Session.Tokens(), after.Session.Tokens())
	// The holder's lease is untouched: it is not ours to release.
	_, err = w.sessions.AcquireRefreshLease(context.Background(), id, "probe", w.now, w.now.Add(time.Minute))
	require.ErrorIs(t, err, ports.ErrRefreshLeaseHeld)
}

func TestBulkheadFullAnswersUnavailableAtOnceAndReleasesTheLease(t *testing.T) {
	w := newWorld(t)
	infoA, _ := w.signedIn(t)
	infoB, tokenB := w.signedIn(t)
	w.now = w.now.Add(10 * time.Minute)
	entered, release := make(chan struct{}), make(chan struct{})
	var calls atomic.Int32
	w.idp.RefreshFunc = func(string) (ports.Identity, ports.TokenSet, error) {
		if calls.Add(1) == 1 {
			close(entered)
		}
		<-release // session A's refresh occupies the only slot
		return w.rotated()
	}
	bounded := application.BoundIdentityProvider(w.idp, 1)
	h := application.NewGetAccessTokenHandler(bounded, w.sessions, w.users, fake.TokenCipher{}, ports.NopObserver{},
		func() time.Time { return w.now }, discardLog(), nil)
	complete := application.NewCompleteSignInHandler(bounded, w.flows, w.users, w.sessions, fake.TokenCipher{},
		domain.DefaultSessionPolicy(), ports.NopObserver{}, func() time.Time { return w.now }, discardLog(), nil)
	state := w.begin(t)
	doneA := make(chan error, 1)
	go func() {
		_, err := h.Handle(context.Background(), application.GetAccessToken{Session: infoA.Session})
		doneA <- err
	}()
	<-entered
	_, err := h.Handle(context.Background(), application.GetAccessToken{Session: infoB.Session})
	require.ErrorIs(t, err, domain.ErrUnavailable, "beyond the bound: refused at once")
	require.EqualValues(t, 1, calls.Load(), "the refused refresh sent nothing to the IdP")
	requireLeaseFree(t, w, infoB.Session.ID())
	after, err := w.get.Handle(context.Background(), application.GetSession{Token: tokenB})
	require.NoError(t, err, "session kept")
	require.Equal(t, infoB.Session.Tokens(), after.Session.Tokens())
	// A sign-in's code exchange goes through the same bulkhead.
	_, err = complete.Handle(context.Background(), application.CompleteSignIn{Provider: "keycloak", State: state,
		Code: w.idp.Authorize(state, bob), Issuer: w.idp.Issuer(), BrowserBinding: binding})
	require.ErrorIs(t, err, domain.ErrUnavailable, "the code exchange is refused too")
	close(release)
	require.NoError(t, <-doneA)
	// With the slot free again, refreshes go through.
	tok, err := h.Handle(context.Background(), application.GetAccessToken{Session: infoB.Session})
	require.NoError(t, err)
	require.Equal(t, "access-2", tok.Value)
}

func TestRefreshedTokensAreStoredEvenIfTheCallerWentAway(t *testing.T) {
	w := newWorld(t)
	info, token := w.signedIn(t)
	w.now = w.now.Add(10 * time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	w.idp.RefreshFunc = func(string) (ports.Identity, ports.TokenSet, error) {
		cancel() // the browser gave up while the IdP was rotating the token
		return w.rotated()
	}
	_, _ = w.tokens().Handle(ctx, application.GetAccessToken{Session: info.Session})
	after, err := w.get.Handle(context.Background(), application.GetSession{Token: token})
	require.NoError(t, err)
	require.Equal(t, "sealed:refresh-2", string(after.Session.Tokens().RefreshToken), "the rotated refresh token was stored")
	requireLeaseFree(t, w, info.Session.ID())
}

func TestRefreshThatOutlivedItsLeaseStoresNothing(t *testing.T) {
	w := newWorld(t)
	info, token := w.signedIn(t)
	w.now = w.now.Add(10 * time.Minute)
	id := info.Session.ID()
	w.idp.RefreshFunc = func(string) (ports.Identity, ports.TokenSet, error) {
		// The lease expired during a very slow call and another process took it.
		_, err := w.sessions.AcquireRefreshLease(context.Background(), id, "other-process", w.now.Add(time.Hour), w.now.Add(2*time.Hour))
		require.NoError(t, err)
		return w.rotated()
	}
	_, err := w.tokens().Handle(context.Background(), application.GetAccessToken{Session: info.Session})
	require.ErrorIs(t, err, domain.ErrUnavailable)
	after, err := w.get.Handle(context.Background(), application.GetSession{Token: token})
	require.NoError(t, err)
	require.Equal(t, info.Session.Tokens(), after.Session.Tokens(), "nothing stored over the new holder")
}

func TestInvalidGrantDeletesTheSessionAndItsLease(t *testing.T) {
	w := newWorld(t)
	info, token := w.signedIn(t)
	w.now = w.now.Add(10 * time.Minute)
	w.idp.RefreshErr = fmt.Errorf("%w: invalid_grant", ports.ErrRefreshRejected)
	_, err := w.tokens().Handle(context.Background(), application.GetAccessToken{Session: info.Session})
	require.ErrorIs(t, err, application.ErrRefreshRejected)
	require.Equal(t, 1, w.idp.RefreshCalls, "exactly one token request")
	_, err = w.get.Handle(context.Background(), application.GetSession{Token: token})
	require.ErrorIs(t, err, domain.ErrSessionNotFound)
	_, err = w.sessions.AcquireRefreshLease(context.Background(), info.Session.ID(), "probe", w.now, w.now.Add(time.Minute))
	require.ErrorIs(t, err, domain.ErrSessionNotFound)
}
