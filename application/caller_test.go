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

// TestAdminUseCasesFailClosed runs every admin use case with every caller
// that must be refused (the zero Caller, an anonymous one, a plain user) and
// checks the refusal and that nothing changed; then with an admin and the
// operator, which are allowed.
func TestAdminUseCasesFailClosed(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	log := discardLog()
	users := fake.NewUserStore()
	sessions := fake.NewSessionStore(users)
	flows := fake.NewLoginFlowStore()
	idp := fake.NewIdentityProvider("https://kc.example.com/realms/crm")
	start := application.NewStartSignInHandler(idp, flows, clock)
	complete := application.NewCompleteSignInHandler(idp, flows, users, sessions, fake.TokenCipher{},
		domain.DefaultSessionPolicy(), ports.NopObserver{}, clock, log, nil)
	get := application.NewGetSessionHandler(sessions, domain.DefaultSessionPolicy(), clock)
	signIn := func(subject string, roles ...string) application.SessionInfo {
		_, err := start.Handle(ctx, application.StartSignIn{Provider: "keycloak", BrowserBinding: "b"})
		require.NoError(t, err)
		state := idp.LastState()
		id := ports.Identity{Subject: subject, Email: subject + "@example.com"}
		for _, r := range roles {
			id.Roles = append(id.Roles, domain.Role{Name: r, Source: "realm"})
		}
		out, err := complete.Handle(ctx, application.CompleteSignIn{Provider: "keycloak", State: state,
			Code: idp.Authorize(state, id), Issuer: idp.Issuer(), BrowserBinding: "b"})
		require.NoError(t, err)
		info, err := get.Handle(ctx, application.GetSession{Token: string(out.SessionToken)})
		require.NoError(t, err)
		return info
	}
	victim := signIn("victim", "user")
	plain := signIn("plain", "user")
	admin := signIn("admin", "admin")
	// One expired session that cleanup would delete.
	now = now.Add(-60 * 24 * time.Hour)
	signIn("old", "user")
	now = now.Add(60 * 24 * time.Hour)

	userSessions := application.NewUserSessionsHandler(users, sessions, ports.NopObserver{}, clock, log)
	stats := application.NewSessionStatsHandler(fake.NewSessionMaintenance(sessions), clock)
	cleanup := application.NewCleanupSessionsHandler(fake.NewSessionMaintenance(sessions), flows,
		fake.NewVerificationTokenStore(), ports.NopObserver{}, clock, log)

	useCases := map[string]func(application.Caller) error{
		"UserSessions.List": func(c application.Caller) error {
			_, err := userSessions.List(ctx, application.UserSessions{Caller: c, User: victim.User.ID})
			return err
		},
		"UserSessions.Revoke": func(c application.Caller) error {
			_, _, err := userSessions.Revoke(ctx, application.UserSessions{Caller: c, User: victim.User.ID})
			return err
		},
		"SessionStats": func(c application.Caller) error {
			_, err := stats.Handle(ctx, c)
			return err
		},
		"CleanupSessions": func(c application.Caller) error {
			_, err := cleanup.Handle(ctx, application.CleanupSessions{Caller: c, Pause: -1})
			return err
		},
	}
	refused := map[string]application.Caller{
		"zero":      {},
		"anonymous": application.UserCaller(application.SessionInfo{}),
		"no user":   application.UserCaller(application.SessionInfo{Session: victim.Session, Roles: admin.Roles}),
		"plain":     application.UserCaller(plain),
	}
	countRows := func() int {
		n := 0
		for _, u := range []string{victim.User.ID, plain.User.ID, admin.User.ID} {
			all, err := sessions.ListByUser(ctx, u)
			require.NoError(t, err)
			n += len(all)
		}
		st, err := fake.NewSessionMaintenance(sessions).Stats(ctx, now)
		require.NoError(t, err)
		return n + int(st.Total)
	}
	before := countRows()
	checks := 0
	for name, run := range useCases {
		for who, caller := range refused {
			err := run(caller)
			require.ErrorIs(t, err, domain.ErrForbidden, "%s by %s caller", name, who)
			require.Equal(t, before, countRows(), "%s by %s caller changed sessions", name, who)
			checks++
		}
	}
	t.Logf("%d admin use cases × %d refused callers: %d refusals, session rows unchanged (%d)", len(useCases), len(refused), checks, before)

	for name, run := range useCases {
		for who, caller := range map[string]application.Caller{"admin": application.UserCaller(admin), "operator": application.OperatorCaller()} {
			require.NoError(t, run(caller), "%s by %s", name, who)
		}
	}
	require.Less(t, countRows(), before, "the allowed callers did act")
}
