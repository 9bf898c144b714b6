package application_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/application"
	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
)

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// aliasOnly is bob as Keycloak's default organization mapper describes him:
// organizations by alias, no ids, no attributes.
var aliasOnly = func() ports.Identity {
	id := bob
	id.Organizations = []domain.Organization{{Alias: "acme", Name: "acme"}, {Alias: "globex", Name: "globex"}}
	return id
}()

// signInAs signs id in and returns the resolved session.
func (w *world) signInAs(t *testing.T, id ports.Identity) application.SessionInfo {
	t.Helper()
	w.idp.Tokens.AccessTokenExpiresAt = w.now.Add(5 * time.Minute)
	state := w.begin(t)
	res, err := w.complete.Handle(context.Background(), application.CompleteSignIn{Provider: "keycloak", State: state,
		Code: w.idp.Authorize(state, id), Issuer: w.idp.Issuer(), BrowserBinding: binding})
	require.NoError(t, err, "a sign-in never fails for want of organization ids")
	info, err := w.get.Handle(context.Background(), application.GetSession{Token: string(res.SessionToken)})
	require.NoError(t, err)
	return info
}

func (w *world) upstream(t *testing.T, info application.SessionInfo) application.UpstreamCredentials {
	t.Helper()
	c, err := application.NewAuthorizeUpstreamHandler(w.tokens(), nil).Handle(context.Background(),
		application.AuthorizeUpstream{Session: info, Path: "/x"})
	require.NoError(t, err)
	return c
}

func TestClaimWithIDsNeedsNoDirectory(t *testing.T) {
	w := newWorld(t)
	info := w.signInAs(t, bob)
	require.Zero(t, w.dir.Calls(), "the token carried every id")
	require.Equal(t, "org-acme", info.ActiveOrganization.ExternalID)
	require.NotEqual(t, "org-acme", info.ActiveOrganization.ID, "authbff's own key is not the IdP's id")
	require.Equal(t, "org-acme", w.upstream(t, info).OrganizationID)
	require.NotContains(t, w.logs.String(), "organization ids unknown")
}

func TestAliasOnlyClaimIsResolvedThroughTheDirectory(t *testing.T) {
	w := newWorld(t)
	dir := w.dir
	dir.Put(domain.Organization{ExternalID: "kc-acme", Alias: "acme", Name: "Acme", TenantID: "tenant-acme"},
		domain.Organization{ExternalID: "kc-globex", Alias: "globex", Name: "Globex"})
	info := w.signInAs(t, aliasOnly)
	require.Equal(t, 1, dir.Calls())
	byAlias := map[string]domain.Organization{}
	for _, o := range info.Organizations {
		byAlias[o.Alias] = o
	}
	require.Equal(t, "kc-acme", byAlias["acme"].ExternalID)
	require.Equal(t, "tenant-acme", byAlias["acme"].TenantID, "tenant_id from the directory's attributes")
	require.Equal(t, "Acme", byAlias["acme"].Name)
	require.Equal(t, "kc-globex", byAlias["globex"].ExternalID)
	c := w.upstream(t, info)
	require.Equal(t, "kc-acme", c.OrganizationID, "X-Organization-ID is the IdP's id")
	require.Equal(t, "tenant-acme", c.TenantID)
	require.NotContains(t, w.logs.String(), "organization ids unknown")
}

func TestAliasOnlyClaimWithoutDirectoryAccessSendsNoOrganizationID(t *testing.T) {
	w := newWorld(t)
	w.dir.Fail(fmt.Errorf("%w: the admin API answered 403", ports.ErrDirectoryDenied))
	info := w.signInAs(t, aliasOnly)
	require.Len(t, info.Organizations, 2)
	for _, o := range info.Organizations {
		require.Empty(t, o.ExternalID, "never an invented id")
		require.NotEmpty(t, o.ID, "stored under authbff's own key")
	}
	c := w.upstream(t, info)
	require.Empty(t, c.OrganizationID, "no X-Organization-ID rather than one the IdP does not know")
	require.Equal(t, "acme", c.TenantID, "the alias stays the tenant key")

	// The warning names the fix, once per process however many sign-ins.
	w.signInAs(t, aliasOnly)
	w.signInAs(t, aliasOnly)
	logs := w.logs.String()
	require.Equal(t, 1, strings.Count(logs, "organization ids unknown: the organization claim names organizations by alias only"), logs)
	require.Contains(t, logs, `\"Add organization id\"`)
	require.Contains(t, logs, "manage-realm")
	require.Contains(t, logs, "the admin API answered 403")

	// Switching names the organization by alias; authbff's own key is
	// never accepted from outside.
	ctx := context.Background()
	var globex domain.Organization
	for _, o := range info.Organizations {
		if o.Alias == "globex" {
			globex = o
		}
	}
	_, err := w.switcher.Handle(ctx, application.SwitchOrganization{SessionID: info.Session.ID(), UserID: info.User.ID, OrganizationID: globex.ID})
	require.ErrorIs(t, err, domain.ErrNotMember)
	sw, err := w.switcher.Handle(ctx, application.SwitchOrganization{SessionID: info.Session.ID(), UserID: info.User.ID, OrganizationID: "globex"})
	require.NoError(t, err)
	require.Equal(t, "globex", sw.Organization.Alias)
}

func TestRefreshResolvesLaterAndKeepsAKnownID(t *testing.T) {
	w := newWorld(t)
	w.dir.Fail(fmt.Errorf("%w: identity provider down", domain.ErrUnavailable))
	info := w.signInAs(t, aliasOnly)
	require.Empty(t, info.ActiveOrganization.ExternalID)

	refresh := func() application.SessionInfo {
		t.Helper()
		w.now = w.now.Add(10 * time.Minute)
		w.idp.RefreshFunc = func(string) (ports.Identity, ports.TokenSet, error) {
			return aliasOnly, ports.TokenSet{AccessToken: "access-" + w.now.Format("150405"), RefreshToken: "r",
				AccessTokenExpiresAt: w.now.Add(5 * time.Minute)}, nil
		}
		_, err := w.tokens().Handle(context.Background(), application.GetAccessToken{Session: info.Session})
		require.NoError(t, err)
		views, err := w.users.Organizations(context.Background(), info.User.ID)
		require.NoError(t, err)
		out := info
		out.Organizations = views
		return out
	}

	// The directory answers again: the next refresh learns the ids.
	dir := w.dir
	dir.Fail(nil)
	dir.Put(domain.Organization{ExternalID: "kc-acme", Alias: "acme"})
	got := refresh()
	require.Equal(t, "kc-acme", got.Organizations[0].ExternalID)
	require.Empty(t, got.Organizations[1].ExternalID, "globex is unknown to the directory")
	require.Equal(t, 2, dir.Calls(), "one lookup at sign-in, one at the refresh")

	// It fails again: the id learnt before is kept, not dropped.
	dir.Fail(fmt.Errorf("%w: 403", ports.ErrDirectoryDenied))
	got = refresh()
	require.Equal(t, "kc-acme", got.Organizations[0].ExternalID)
}
