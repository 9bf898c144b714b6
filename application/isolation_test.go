package application_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/application"
	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
	"github.com/authbff/authbff/test/fake"
)

// TestTenantIsolationProperty is docs/security.md R10 as a property test on the
// use cases: 50 users in 5 organizations, random operations, and after every
// operation no user has seen, changed or been granted another's sessions or
// another tenant's context. The seed is printed; ISOLATION_SEED replays one.
func TestTenantIsolationProperty(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("ISOLATION_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (ISOLATION_SEED=%d to replay)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	ctx := context.Background()
	now := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	log := discardLog()

	users := fake.NewUserStore()
	sessions := fake.NewSessionStore(users)
	idp := fake.NewIdentityProvider("https://kc.example.com/realms/crm")
	idp.Tokens.AccessTokenExpiresAt = now.Add(time.Hour)
	flows := fake.NewLoginFlowStore()
	complete := application.NewCompleteSignInHandler(idp, flows, users, sessions, fake.TokenCipher{}, domain.DefaultSessionPolicy(), ports.NopObserver{}, clock, log, nil)
	start := application.NewStartSignInHandler(idp, flows, clock)
	get := application.NewGetSessionHandler(sessions, domain.DefaultSessionPolicy(), clock)
	list := application.NewListSessionsHandler(sessions, clock)
	revoke := application.NewRevokeSessionHandler(sessions, ports.NopObserver{}, log)
	admin := application.NewUserSessionsHandler(users, sessions, ports.NopObserver{}, clock, log)
	switcher := application.NewSwitchOrganizationHandler(users, sessions, clock, log)
	upstream := application.NewAuthorizeUpstreamHandler(
		application.NewGetAccessTokenHandler(idp, sessions, users, fake.TokenCipher{}, ports.NopObserver{}, clock, log, nil), nil)

	orgs := make([]domain.Organization, 5)
	for i := range orgs {
		orgs[i] = domain.Organization{ExternalID: fmt.Sprintf("org-%d", i), Alias: fmt.Sprintf("tenant%d", i), TenantID: fmt.Sprintf("t-%d", i)}
	}
	type live struct {
		token string
		user  string // user id
		org   domain.Organization
		subj  string
	}
	var all []live
	memberOf := map[string]domain.Organization{} // user id -> their only organization
	signIn := func(u int) {
		org := orgs[u%len(orgs)]
		res, err := start.Handle(ctx, application.StartSignIn{Provider: "keycloak", BrowserBinding: "b"})
		require.NoError(t, err)
		_ = res
		state := idp.LastState()
		subj := fmt.Sprintf("sub-%d", u)
		code := idp.Authorize(state, ports.Identity{Subject: subj, Email: fmt.Sprintf("u%d@example.com", u),
			Roles: []domain.Role{{Name: "user", Source: "realm"}}, Organizations: []domain.Organization{org}})
		out, err := complete.Handle(ctx, application.CompleteSignIn{Provider: "keycloak", State: state, Code: code,
			Issuer: idp.Issuer(), BrowserBinding: "b"})
		require.NoError(t, err)
		all = append(all, live{token: string(out.SessionToken), user: out.UserID, org: org, subj: subj})
		memberOf[out.UserID] = org
	}
	for u := 0; u < 50; u++ {
		signIn(u)
	}

	alive := func(l live) (application.SessionInfo, bool) {
		info, err := get.Handle(ctx, application.GetSession{Token: l.token})
		if errors.Is(err, domain.ErrSessionNotFound) {
			return application.SessionInfo{}, false
		}
		require.NoError(t, err)
		return info, true
	}
	for op := 0; op < 10000; op++ {
		a := all[rng.IntN(len(all))]
		b := all[rng.IntN(len(all))]
		infoA, okA := alive(a)
		if !okA {
			signIn(rng.IntN(50)) // keep the population up
			continue
		}
		infoB, okB := alive(b)
		switch rng.IntN(6) {
		case 0: // list: only A's own sessions
			got, err := list.Handle(ctx, application.ListSessions{UserID: infoA.User.ID, CurrentSessionID: infoA.Session.ID()})
			require.NoError(t, err)
			for _, s := range got {
				owner, err := sessions.ListByUser(ctx, infoA.User.ID)
				require.NoError(t, err)
				found := false
				for _, o := range owner {
					found = found || o.ID() == s.ID
				}
				require.True(t, found, "op %d: listed a session that is not the caller's", op)
			}
		case 1: // A revokes B's session by id
			err := revoke.Handle(ctx, application.RevokeSession{UserID: infoA.User.ID, SessionID: idOf(infoB, okB)})
			if okB && infoB.User.ID != infoA.User.ID {
				require.ErrorIs(t, err, application.ErrNoSuchSession, "op %d", op)
				_, still := alive(b)
				require.True(t, still, "op %d: another user's session was revoked", op)
			}
		case 2: // A (not an admin) tries the admin revoke on B's user
			if okB {
				_, _, err := admin.Revoke(ctx, application.UserSessions{Caller: application.UserCaller(infoA), User: infoB.User.ID})
				require.ErrorIs(t, err, domain.ErrForbidden, "op %d", op)
			}
		case 3: // A tries to switch to B's organization
			if okB && infoB.ActiveOrganization != nil && infoB.ActiveOrganization.ExternalID != memberOf[infoA.User.ID].ExternalID {
				_, err := switcher.Handle(ctx, application.SwitchOrganization{SessionID: infoA.Session.ID(), UserID: infoA.User.ID,
					OrganizationID: infoB.ActiveOrganization.ExternalID})
				require.ErrorIs(t, err, domain.ErrNotMember, "op %d", op)
			}
			_, err := switcher.Handle(ctx, application.SwitchOrganization{SessionID: idOf(infoB, okB), UserID: infoA.User.ID,
				OrganizationID: memberOf[infoA.User.ID].ExternalID})
			if okB && infoB.User.ID != infoA.User.ID {
				require.ErrorIs(t, err, domain.ErrSessionNotFound, "op %d: switched another user's session", op)
			}
		case 4: // the upstream context is always the caller's own tenant
			c, err := upstream.Handle(ctx, application.AuthorizeUpstream{Session: infoA, Path: "/x"})
			require.NoError(t, err)
			require.Equal(t, memberOf[infoA.User.ID].ExternalID, c.OrganizationID, "op %d", op)
			require.Equal(t, memberOf[infoA.User.ID].TenantID, c.TenantID, "op %d", op)
			require.Equal(t, infoA.User.ID, c.UserID)
		case 5: // A revokes all of A's other sessions: B survives if another user
			_, err := revoke.HandleOthers(ctx, application.RevokeOtherSessions{UserID: infoA.User.ID, CurrentSessionID: infoA.Session.ID()})
			require.NoError(t, err)
			if okB && infoB.User.ID != infoA.User.ID {
				_, still := alive(b)
				require.True(t, still, "op %d", op)
			}
		}
	}
}

func idOf(info application.SessionInfo, ok bool) string {
	if !ok {
		return domain.NewID()
	}
	return info.Session.ID()
}
