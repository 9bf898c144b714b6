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

// signedIn signs bob in and returns the resolved session.
func (w *world) signedIn(t *testing.T) (application.SessionInfo, string) {
	t.Helper()
	w.idp.Tokens.AccessTokenExpiresAt = w.now.Add(5 * time.Minute)
	state := w.begin(t)
	res, err := w.complete.Handle(context.Background(), application.CompleteSignIn{Provider: "keycloak", State: state,
		Code: w.idp.Authorize(state, bob), Issuer: w.idp.Issuer(), BrowserBinding: binding})
	require.NoError(t, err)
	info, err := w.get.Handle(context.Background(), application.GetSession{Token: string(res.SessionToken)})
	require.NoError(t, err)
	return info, string(res.SessionToken)
}

func (w *world) tokens() *application.GetAccessTokenHandler {
	return application.NewGetAccessTokenHandler(w.idp, w.sessions, w.users, fake.TokenCipher{}, ports.NopObserver{},
		func() time.Time { return w.now }, discardLog(), w.orgIDs)
}

func TestAccessTokenIsServedWithoutRefreshWhileFresh(t *testing.T) {
	w := newWorld(t)
	info, _ := w.signedIn(t)
	tok, err := w.tokens().Handle(context.Background(), application.GetAccessToken{Session: info.Session})
	require.NoError(t, err)
	require.Equal(t, "access-1", tok.Value)
	require.False(t, tok.Refreshed)
	require.Zero(t, w.idp.RefreshCalls)
}

func TestConcurrentCallersShareOneRefresh(t *testing.T) {
	w := newWorld(t)
	info, token := w.signedIn(t)
	w.now = w.now.Add(10 * time.Minute) // the access token has expired
	var calls atomic.Int32
	release := make(chan struct{})
	w.idp.RefreshFunc = func(rt string) (ports.Identity, ports.TokenSet, error) {
		calls.Add(1)
		<-release // hold the refresh so every caller piles up behind it
		if rt != "refresh-1" {
			return ports.Identity{}, ports.TokenSet{}, fmt.Errorf("%w: reused", ports.ErrRefreshRejected)
		}
		return bob, ports.TokenSet{AccessToken: "access-2", RefreshToken: "refresh-2", AccessTokenExpiresAt: w.now.Add(5 * time.Minute)}, nil
	}
	h := w.tokens()
	var wg, started sync.WaitGroup
	results := make([]string, 50)
	errs := make([]error, 50)
	for i := range results {
		wg.Add(1)
		started.Add(1)
		go func() {
			defer wg.Done()
			started.Done()
			tok, err := h.Handle(context.Background(), application.GetAccessToken{Session: info.Session})
			results[i], errs[i] = tok.Value, err
		}()
	}
	// Every caller is running and one holds the refresh: the others wait
	// behind it, or find the fresh tokens after it.
	started.Wait()
	require.Eventually(t, func() bool { return calls.Load() == 1 }, 5*time.Second, time.Millisecond)
	close(release)
	wg.Wait()
	require.EqualValues(t, 1, calls.Load(), "exactly one refresh at the IdP")
	for i := range results {
		require.NoError(t, errs[i])
		require.Equal(t, "access-2", results[i])
	}
	// The rotated refresh token was stored; a second handler (another
	// process) finds fresh tokens after re-reading under the row lock.
	fresh, err := w.get.Handle(context.Background(), application.GetSession{Token: token})
	require.NoError(t, err)
	require.Equal(t, "sealed:refresh-2", string(fresh.Session.Tokens().RefreshToken))
	other := w.tokens()
	tok, err := other.Handle(context.Background(), application.GetAccessToken{Session: info.Session /* stale copy */})
	require.NoError(t, err)
	require.Equal(t, "access-2", tok.Value)
	require.EqualValues(t, 1, calls.Load(), "the stale copy did not cause a second refresh")
}

func TestInvalidGrantEndsTheSession(t *testing.T) {
	w := newWorld(t)
	info, token := w.signedIn(t)
	w.now = w.now.Add(10 * time.Minute)
	w.idp.RefreshErr = fmt.Errorf("%w: invalid_grant", ports.ErrRefreshRejected)
	_, err := w.tokens().Handle(context.Background(), application.GetAccessToken{Session: info.Session})
	require.ErrorIs(t, err, application.ErrRefreshRejected)
	_, err = w.get.Handle(context.Background(), application.GetSession{Token: token})
	require.ErrorIs(t, err, domain.ErrSessionNotFound)
}

func TestTransientIdPFailureKeepsTheSession(t *testing.T) {
	w := newWorld(t)
	info, token := w.signedIn(t)
	w.now = w.now.Add(10 * time.Minute)
	w.idp.RefreshErr = fmt.Errorf("%w: token endpoint answered 503", domain.ErrUnavailable)
	_, err := w.tokens().Handle(context.Background(), application.GetAccessToken{Session: info.Session})
	require.ErrorIs(t, err, domain.ErrUnavailable)
	require.False(t, errors.Is(err, application.ErrRefreshRejected))
	after, err := w.get.Handle(context.Background(), application.GetSession{Token: token})
	require.NoError(t, err)
	require.Equal(t, info.Session.Tokens(), after.Session.Tokens(), "the stored tokens are untouched")
}

func TestRefreshResyncsRoles(t *testing.T) {
	w := newWorld(t)
	info, token := w.signedIn(t)
	w.now = w.now.Add(10 * time.Minute)
	promoted := bob
	promoted.Roles = append([]domain.Role{}, bob.Roles...)
	promoted.Roles = append(promoted.Roles, domain.Role{Name: "admin", Source: domain.RoleSourceRealm})
	promoted.Organizations = bob.Organizations[:1] // left acme
	w.idp.RefreshFunc = func(string) (ports.Identity, ports.TokenSet, error) {
		return promoted, ports.TokenSet{AccessToken: "access-2", RefreshToken: "refresh-2", AccessTokenExpiresAt: w.now.Add(time.Minute)}, nil
	}
	_, err := w.tokens().Handle(context.Background(), application.GetAccessToken{Session: info.Session})
	require.NoError(t, err)
	after, err := w.get.Handle(context.Background(), application.GetSession{Token: token})
	require.NoError(t, err)
	require.True(t, after.HasRole("admin"))
	require.Len(t, after.Organizations, 1)
	require.Equal(t, "globex", after.Organizations[0].Alias)
}

func TestAuthorizeUpstreamRules(t *testing.T) {
	w := newWorld(t)
	info, _ := w.signedIn(t)
	h := application.NewAuthorizeUpstreamHandler(w.tokens(), []application.PathRule{
		{Prefix: "/admin", Roles: []string{"admin"}},
		{Prefix: "/reports", Roles: []string{"admin", "user"}},
	})
	ctx := context.Background()
	_, err := h.Handle(ctx, application.AuthorizeUpstream{Session: info, Path: "/admin/users"})
	require.ErrorIs(t, err, domain.ErrForbidden)
	_, err = h.Handle(ctx, application.AuthorizeUpstream{Session: info, Path: "/admin"})
	require.ErrorIs(t, err, domain.ErrForbidden)
	c, err := h.Handle(ctx, application.AuthorizeUpstream{Session: info, Path: "/administrator"})
	require.NoError(t, err, "prefixes match whole path segments")
	require.Equal(t, "tenant-acme", c.TenantID)
	require.Equal(t, "org-acme", c.OrganizationID)
	require.Equal(t, "access-1", c.AccessToken)
	_, err = h.Handle(ctx, application.AuthorizeUpstream{Session: info, Path: "/reports/q1"})
	require.NoError(t, err)
}
