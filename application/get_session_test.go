package application_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/application"
	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
	"github.com/authbff/authbff/test/fake"
)

// memoStore hands out one RenderMemo with every view, as the session cache
// does with a cached view.
type memoStore struct {
	*fake.SessionStore
	memo *ports.RenderMemo
}

func (s memoStore) LookupView(ctx context.Context, hash domain.TokenHash) (ports.SessionView, error) {
	v, err := s.SessionStore.LookupView(ctx, hash)
	v.Rendered = s.memo
	return v, err
}

// TestGetSessionPassesTheRenderMemoOnlyWhenNothingChanged: what the adapter
// rendered from a cached view may be reused while the read changed nothing;
// a read that slid the expiry gets no memo, so the old body is not kept.
func TestGetSessionPassesTheRenderMemoOnlyWhenNothingChanged(t *testing.T) {
	w := newWorld(t)
	_, token := w.signedIn(t)
	store := memoStore{SessionStore: w.sessions, memo: &ports.RenderMemo{}}
	policy := domain.DefaultSessionPolicy()
	get := application.NewGetSessionHandler(store, policy, func() time.Time { return w.now })

	info, err := get.Handle(context.Background(), application.GetSession{Token: token, ViewOnly: true})
	require.NoError(t, err)
	require.Same(t, store.memo, info.Rendered, "no renewal due: the view's memo")

	w.now = w.now.Add(policy.UpdateAge + time.Minute)
	info, err = get.Handle(context.Background(), application.GetSession{Token: token, ViewOnly: true})
	require.NoError(t, err)
	require.Nil(t, info.Rendered, "the expiry slid: nothing rendered before may be reused")
	require.True(t, info.CookieExpires.After(info.StoredExpires.Add(-time.Second)))
}
