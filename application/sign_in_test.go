package application_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/application"
	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
	"github.com/authbff/authbff/test/fake"
)

// world is the application wired to fakes, with a controllable clock.
type world struct {
	now      time.Time
	idp      *fake.IdentityProvider
	flows    *fake.LoginFlowStore
	users    *fake.UserStore
	sessions *fake.SessionStore
	start    *application.StartSignInHandler
	complete *application.CompleteSignInHandler
	get      *application.GetSessionHandler
	signOut  *application.SignOutHandler
	switcher *application.SwitchOrganizationHandler
	dir      *fake.OrganizationDirectory
	orgIDs   *application.OrganizationIDs
	logs     *syncBuffer
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	clock := func() time.Time { return w.now }
	w.logs = &syncBuffer{}
	log := slog.New(slog.NewTextHandler(w.logs, nil))
	w.dir = fake.NewOrganizationDirectory()
	w.orgIDs = application.NewOrganizationIDs(w.dir, log)
	w.idp = fake.NewIdentityProvider("https://kc.example.com/realms/crm")
	w.flows = fake.NewLoginFlowStore()
	w.users = fake.NewUserStore()
	w.sessions = fake.NewSessionStore(w.users)
	policy := domain.DefaultSessionPolicy()
	w.start = application.NewStartSignInHandler(w.idp, w.flows, clock)
	w.complete = application.NewCompleteSignInHandler(w.idp, w.flows, w.users, w.sessions, fake.TokenCipher{}, policy, ports.NopObserver{}, clock, log, w.orgIDs)
	w.get = application.NewGetSessionHandler(w.sessions, policy, clock)
	w.signOut = application.NewSignOutHandler(w.idp, w.sessions, fake.TokenCipher{}, ports.NopObserver{}, log)
	w.switcher = application.NewSwitchOrganizationHandler(w.users, w.sessions, clock, log)
	return w
}

var bob = ports.Identity{
	Subject: "sub-bob", SessionID: "kc-sid-1", Name: "Bob", Email: "Bob@Example.com", EmailVerified: true,
	Roles: []domain.Role{{Name: "user", Source: domain.RoleSourceRealm}},
	Organizations: []domain.Organization{
		{ExternalID: "org-globex", Alias: "globex", Name: "Globex"},
		{ExternalID: "org-acme", Alias: "acme", Name: "Acme", TenantID: "tenant-acme"},
	},
}

const binding = domain.TokenHash("binding-hash-of-this-browser")

// begin starts a sign-in and returns the state the IdP saw.
func (w *world) begin(t *testing.T) string {
	t.Helper()
	res, err := w.start.Handle(context.Background(), application.StartSignIn{
		Provider: "keycloak", RedirectURI: "https://app.example.com/api/auth/callback/keycloak",
		CallbackURL: "https://app.example.com/dashboard", BrowserBinding: binding,
	})
	require.NoError(t, err)
	require.Contains(t, res.AuthorizationURL, "https://kc.example.com/realms/crm/auth?state=")
	return w.idp.LastState()
}

func TestSignInCreatesSessionWithSealedTokensAndFirstOrganization(t *testing.T) {
	w := newWorld(t)
	state := w.begin(t)
	req, _ := w.idp.Request(state)
	require.Len(t, req.PKCEVerifier, 43, "32-byte PKCE verifier")
	require.NotEmpty(t, req.Nonce)
	require.NotEqual(t, req.Nonce, req.State)

	code := w.idp.Authorize(state, bob)
	res, err := w.complete.Handle(context.Background(), application.CompleteSignIn{
		Provider: "keycloak", State: state, Code: code, Issuer: w.idp.Issuer(), BrowserBinding: binding,
		IPAddress: "203.0.113.7", UserAgent: "test-agent",
	})
	require.NoError(t, err)
	require.Equal(t, "https://app.example.com/dashboard", res.CallbackURL)
	require.Equal(t, w.now.Add(8*time.Hour), res.Expires)

	info, err := w.get.Handle(context.Background(), application.GetSession{Token: string(res.SessionToken)})
	require.NoError(t, err)
	require.Equal(t, "bob@example.com", info.User.Email)
	require.True(t, info.HasRole("user"))
	require.Len(t, info.Organizations, 2)
	require.NotNil(t, info.ActiveOrganization)
	require.Equal(t, "acme", info.ActiveOrganization.Alias, "first membership by alias is active")
	tokens := info.Session.Tokens()
	require.Equal(t, "sealed:access-1", string(tokens.AccessToken), "tokens are stored sealed")
	require.Equal(t, "sealed:refresh-1", string(tokens.RefreshToken))
	require.Equal(t, "kc-sid-1", info.Session.ProviderSessionID())
	require.Equal(t, "203.0.113.7", info.Session.IPAddress())
}

func TestCompleteSignInRefusals(t *testing.T) {
	cases := []struct {
		name  string
		tweak func(w *world, cmd *application.CompleteSignIn)
		want  error
	}{
		{"unknown state", func(_ *world, c *application.CompleteSignIn) { c.State = "forged" }, application.ErrSignInCheckFailed},
		{"other browser", func(_ *world, c *application.CompleteSignIn) { c.BrowserBinding = "other" }, application.ErrSignInCheckFailed},
		{"no binding cookie", func(_ *world, c *application.CompleteSignIn) { c.BrowserBinding = "" }, application.ErrSignInCheckFailed},
		{"expired flow", func(w *world, _ *application.CompleteSignIn) { w.now = w.now.Add(16 * time.Minute) }, application.ErrSignInCheckFailed},
		{"issuer mix-up", func(_ *world, c *application.CompleteSignIn) { c.Issuer = "https://evil.example.com" }, application.ErrIssuerMismatch},
		{"missing iss", func(_ *world, c *application.CompleteSignIn) { c.Issuer = "" }, application.ErrIssuerMismatch},
		{"provider error", func(_ *world, c *application.CompleteSignIn) { c.ProviderError = "access_denied" }, application.ErrProviderError},
		{"wrong provider", func(_ *world, c *application.CompleteSignIn) { c.Provider = "github" }, application.ErrUnknownProvider},
		{"forged code", func(_ *world, c *application.CompleteSignIn) { c.Code = "code-forged" }, application.ErrAuthorizationFailed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			state := w.begin(t)
			cmd := application.CompleteSignIn{Provider: "keycloak", State: state, Code: w.idp.Authorize(state, bob),
				Issuer: w.idp.Issuer(), BrowserBinding: binding}
			tc.tweak(w, &cmd)
			_, err := w.complete.Handle(context.Background(), cmd)
			require.ErrorIs(t, err, tc.want)
			list, _ := w.sessions.ListByUser(context.Background(), "any")
			require.Empty(t, list)
		})
	}
}

func TestCallbackCannotBeReplayed(t *testing.T) {
	w := newWorld(t)
	state := w.begin(t)
	cmd := application.CompleteSignIn{Provider: "keycloak", State: state, Code: w.idp.Authorize(state, bob),
		Issuer: w.idp.Issuer(), BrowserBinding: binding}
	_, err := w.complete.Handle(context.Background(), cmd)
	require.NoError(t, err)
	_, err = w.complete.Handle(context.Background(), cmd)
	require.ErrorIs(t, err, application.ErrSignInCheckFailed)
}

func TestGetSessionSlidesAndExpires(t *testing.T) {
	w := newWorld(t)
	state := w.begin(t)
	res, err := w.complete.Handle(context.Background(), application.CompleteSignIn{Provider: "keycloak", State: state,
		Code: w.idp.Authorize(state, bob), Issuer: w.idp.Issuer(), BrowserBinding: binding})
	require.NoError(t, err)
	tok := string(res.SessionToken)
	ctx := context.Background()

	w.now = w.now.Add(30 * time.Minute)
	info, err := w.get.Handle(ctx, application.GetSession{Token: tok})
	require.NoError(t, err)
	require.Equal(t, res.Expires, info.Session.Expires(), "no write within the update age")

	w.now = w.now.Add(7 * time.Hour) // 7h30 after sign-in: renewal due
	info, err = w.get.Handle(ctx, application.GetSession{Token: tok})
	require.NoError(t, err)
	require.Equal(t, res.Expires, info.StoredExpires, "the JSON shows the stored expiry")
	require.Equal(t, w.now.Add(8*time.Hour), info.Session.Expires(), "expiry slid forward")

	w.now = w.now.Add(8*time.Hour + time.Second)
	_, err = w.get.Handle(ctx, application.GetSession{Token: tok})
	require.ErrorIs(t, err, domain.ErrSessionExpired)
	_, err = w.get.Handle(ctx, application.GetSession{Token: tok})
	require.ErrorIs(t, err, domain.ErrSessionNotFound, "an expired session is deleted on sight")

	_, err = w.get.Handle(ctx, application.GetSession{Token: "not a token"})
	require.ErrorIs(t, err, domain.ErrSessionNotFound)
}

func TestSignOutDeletesAndEndsIdPSession(t *testing.T) {
	w := newWorld(t)
	state := w.begin(t)
	res, _ := w.complete.Handle(context.Background(), application.CompleteSignIn{Provider: "keycloak", State: state,
		Code: w.idp.Authorize(state, bob), Issuer: w.idp.Issuer(), BrowserBinding: binding})
	out, err := w.signOut.Handle(context.Background(), application.SignOut{Token: string(res.SessionToken),
		PostLogoutRedirectURI: "https://app.example.com/", State: "back-to-goodbye"})
	require.NoError(t, err)
	require.Contains(t, out.EndSessionURL, "id_token_hint=id-1")
	require.Contains(t, out.EndSessionURL, "post_logout_redirect_uri=https%3A%2F%2Fapp.example.com%2F")
	require.Contains(t, out.EndSessionURL, "state=back-to-goodbye", "the IdP echoes it on its redirect")
	_, err = w.get.Handle(context.Background(), application.GetSession{Token: string(res.SessionToken)})
	require.ErrorIs(t, err, domain.ErrSessionNotFound)

	again, err := w.signOut.Handle(context.Background(), application.SignOut{Token: string(res.SessionToken)})
	require.NoError(t, err, "signing out twice is fine")
	require.Empty(t, again.EndSessionURL)
}

func TestSwitchOrganizationRotatesToken(t *testing.T) {
	w := newWorld(t)
	state := w.begin(t)
	res, _ := w.complete.Handle(context.Background(), application.CompleteSignIn{Provider: "keycloak", State: state,
		Code: w.idp.Authorize(state, bob), Issuer: w.idp.Issuer(), BrowserBinding: binding})
	ctx := context.Background()
	info, _ := w.get.Handle(ctx, application.GetSession{Token: string(res.SessionToken)})

	_, err := w.switcher.Handle(ctx, application.SwitchOrganization{SessionID: info.Session.ID(), UserID: info.User.ID, OrganizationID: "initech"})
	require.ErrorIs(t, err, domain.ErrNotMember)

	sw, err := w.switcher.Handle(ctx, application.SwitchOrganization{SessionID: info.Session.ID(), UserID: info.User.ID, OrganizationID: "globex"})
	require.NoError(t, err)
	require.NotEqual(t, res.SessionToken, sw.SessionToken)
	_, err = w.get.Handle(ctx, application.GetSession{Token: string(res.SessionToken)})
	require.ErrorIs(t, err, domain.ErrSessionNotFound, "the old token is dead")
	info, err = w.get.Handle(ctx, application.GetSession{Token: string(sw.SessionToken)})
	require.NoError(t, err)
	require.Equal(t, "globex", info.ActiveOrganization.Alias)
}

func TestPendingSignInsAreCapped(t *testing.T) {
	w := newWorld(t)
	w.start.WithMaxPending(2)
	for i := 0; i < 2; i++ {
		_, err := w.start.Handle(context.Background(), application.StartSignIn{Provider: "keycloak", BrowserBinding: binding})
		require.NoError(t, err)
	}
	_, err := w.start.Handle(context.Background(), application.StartSignIn{Provider: "keycloak", BrowserBinding: binding})
	require.ErrorIs(t, err, application.ErrTooManyPendingSignIns)
}

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
