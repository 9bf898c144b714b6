package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/adapters/httpapi"
	"github.com/authbff/authbff/adapters/proxy"
	"github.com/authbff/authbff/adapters/store"
	"github.com/authbff/authbff/application"
	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
	"github.com/authbff/authbff/test/fake"
	"github.com/authbff/authbff/test/testenv"
)

// edgeStores are the driven ports behind an edge test app: the real
// PostgreSQL or SQLite stores where a test checks the database, fakes
// otherwise.
type edgeStores struct {
	db       *store.DB // nil for fakes
	users    ports.UserStore
	sessions ports.SessionStore
	flows    ports.LoginFlowStore
	maint    ports.SessionMaintenance
	tokens   ports.VerificationTokenStore
}

func fakeStores() edgeStores {
	users := fake.NewUserStore()
	sessions := fake.NewSessionStore(users)
	return edgeStores{users: users, sessions: sessions, flows: fake.NewLoginFlowStore(),
		maint: fake.NewSessionMaintenance(sessions), tokens: fake.NewVerificationTokenStore()}
}

func dbStores(db *store.DB) edgeStores {
	return edgeStores{db: db, users: store.NewUserStore(db), sessions: store.NewSessionStore(db),
		flows: store.NewLoginFlowStore(db), maint: store.NewSessionMaintenance(db), tokens: store.NewVerificationTokenStore(db)}
}

// forEachDatabase runs f on PostgreSQL (when TEST_DATABASE_URL is set; under
// CI=true it must be) and on SQLite.
func forEachDatabase(t *testing.T, f func(t *testing.T, st edgeStores)) {
	for name, open := range testenv.Databases() {
		t.Run(name, func(t *testing.T) { f(t, dbStores(open(t))) })
	}
}

// count runs a COUNT(*) query on the real database.
func (s edgeStores) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, s.db.DB.QueryRowContext(context.Background(), query, args...).Scan(&n))
	return n
}

// newEdgeApp is the whole HTTP adapter over the real use cases on st, a
// fake IdP, and, when upstream is not empty, the real reverse proxy to it.
// AUTH_URL is the listener's own URL. Options may wrap the router (a test
// adds same-origin pages with it) or change its configuration.
func newEdgeApp(t *testing.T, st edgeStores, upstream string, opts ...edgeOption) (*testApp, *gin.Engine) {
	t.Helper()
	app := &testApp{now: time.Now().UTC()}
	clock := func() time.Time { return app.now }
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	app.idp = fake.NewIdentityProvider("https://kc.example.com/realms/crm")
	app.idp.Tokens.AccessTokenExpiresAt = app.now.Add(time.Hour)
	policy := domain.DefaultSessionPolicy()
	h := httpapi.Handlers{
		Provider:           httpapi.ProviderInfo{ID: "keycloak", Name: "Keycloak"},
		Readiness:          application.NewCheckReadinessHandler(nil, time.Second),
		StartSignIn:        application.NewStartSignInHandler(app.idp, st.flows, clock),
		CompleteSignIn:     application.NewCompleteSignInHandler(app.idp, st.flows, st.users, st.sessions, fake.TokenCipher{}, policy, ports.NopObserver{}, clock, log, nil),
		GetSession:         application.NewGetSessionHandler(st.sessions, policy, clock),
		SignOut:            application.NewSignOutHandler(app.idp, st.sessions, fake.TokenCipher{}, ports.NopObserver{}, log),
		SwitchOrganization: application.NewSwitchOrganizationHandler(st.users, st.sessions, clock, log),
		ListSessions:       application.NewListSessionsHandler(st.sessions, clock),
		RevokeSession:      application.NewRevokeSessionHandler(st.sessions, ports.NopObserver{}, log),
		UserSessions:       application.NewUserSessionsHandler(st.users, st.sessions, ports.NopObserver{}, clock, log),
		SessionStats:       application.NewSessionStatsHandler(st.maint, clock),
		Cleanup:            application.NewCleanupSessionsHandler(st.maint, st.flows, st.tokens, ports.NopObserver{}, clock, log),
	}
	h.GetAccessToken = application.NewGetAccessTokenHandler(app.idp, st.sessions, st.users, fake.TokenCipher{}, ports.NopObserver{}, clock, log, nil)
	h.AuthorizeUpstream = application.NewAuthorizeUpstreamHandler(h.GetAccessToken, nil)
	app.srv = httptest.NewUnstartedServer(nil)
	pub, _ := url.Parse("http://" + app.srv.Listener.Addr().String() + "/api/auth")
	if upstream != "" {
		up, _ := url.Parse(upstream)
		px, err := proxy.New(proxy.Config{Upstream: up, StripPrefix: httpapi.ProxyPrefix, PublicURL: pub}, log)
		require.NoError(t, err)
		h.Proxy = px
	}
	cfg := httpapi.Config{PublicURL: pub, Secrets: [][]byte{[]byte("test-secret")}}
	for _, o := range opts {
		if o.config != nil {
			o.config(&cfg)
		}
	}
	engine, err := httpapi.NewRouter(cfg, h, log)
	require.NoError(t, err)
	var handler http.Handler = engine
	for _, o := range opts {
		if o.wrap != nil {
			handler = o.wrap(handler)
		}
	}
	app.srv.Config.Handler = handler
	app.srv.Start()
	t.Cleanup(app.srv.Close)
	return app, engine
}

// edgeOption adjusts newEdgeApp.
type edgeOption struct {
	wrap   func(http.Handler) http.Handler
	config func(*httpapi.Config)
}

// sessionCookie returns the client's session cookie value for app.
func sessionCookie(c *http.Client, a *testApp) string {
	u, _ := url.Parse(a.srv.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "authjs.session-token" {
			return ck.Value
		}
	}
	return ""
}
