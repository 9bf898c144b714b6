package main

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net/http"
	"time"

	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"

	"github.com/authbff/authbff/adapters/crypto"
	"github.com/authbff/authbff/adapters/httpapi"
	"github.com/authbff/authbff/adapters/keycloak"
	"github.com/authbff/authbff/adapters/metrics"
	"github.com/authbff/authbff/adapters/proxy"
	"github.com/authbff/authbff/adapters/store"
	"github.com/authbff/authbff/application"
	"github.com/authbff/authbff/ports"
)

// appOptions is the whole server, as a table of contents: configuration,
// adapters, use cases. `serve` runs it; a test validates the same graph.
func appOptions(cfg Config, logOut io.Writer) fx.Option {
	log := newLogger(cfg, logOut)
	return fx.Options(
		fx.WithLogger(func() fxevent.Logger {
			l := &fxevent.SlogLogger{Logger: log}
			l.UseLogLevel(slog.LevelDebug)
			return l
		}),
		fx.Supply(log, cfg.Store, cfg.HTTP, cfg.Policy),
		fx.Supply(application.Clock(application.SystemClock)),

		fx.Supply(crypto.Secrets(cfg.Secrets)),
		identityProviderConfig(cfg),

		store.Module,
		metrics.Module,
		crypto.Module,
		keycloak.Module,
		httpapi.Module,
		fx.Decorate(func(idp ports.IdentityProvider) ports.IdentityProvider {
			return application.BoundIdentityProvider(idp, cfg.IdPMaxConcurrency)
		}),

		fx.Provide(
			readinessChecks,
			func(checks []ports.HealthCheck) *application.CheckReadinessHandler {
				return application.NewCheckReadinessHandler(checks, 3*time.Second)
			},
			application.NewCleanupSessionsHandler,
			application.NewSessionStatsHandler,
			application.NewStartSignInHandler,
			application.NewOrganizationIDs,
			application.NewCompleteSignInHandler,
			application.NewGetSessionHandler,
			application.NewSignOutHandler,
			application.NewSwitchOrganizationHandler,
			application.NewGetAccessTokenHandler,
			application.NewListSessionsHandler,
			application.NewRevokeSessionHandler,
			application.NewUserSessionsHandler,
			application.NewBackchannelLogoutHandler,
			func(p *keycloak.Provider) ports.LogoutTokenVerifier { return p },
			func(db *store.DB) *sql.DB { return db.DB.DB },
			func(stats *application.SessionStatsHandler) metrics.ActiveSessions {
				return func(ctx context.Context) (int64, error) {
					st, err := stats.Handle(ctx, application.OperatorCaller())
					return st.Active, err
				}
			},
			func(t *application.GetAccessTokenHandler) *application.AuthorizeUpstreamHandler {
				return application.NewAuthorizeUpstreamHandler(t, cfg.ProxyRules)
			},
			func(log *slog.Logger, m *metrics.Metrics) (http.Handler, error) { return newProxy(cfg, log, m) },
			newHTTPHandlers,
		),
		fx.Invoke(func(lc fx.Lifecycle, h *application.CleanupSessionsHandler, log *slog.Logger) {
			registerCleanupJob(lc, cfg, h, log)
		}),
	)
}

// identityProviderConfig supplies the Keycloak configuration, or starts the
// embedded development IdP and points the Keycloak adapter at it.
func identityProviderConfig(cfg Config) fx.Option {
	if cfg.Keycloak != nil {
		return fx.Supply(*cfg.Keycloak)
	}
	return fx.Provide(func(lc fx.Lifecycle, log *slog.Logger) (keycloak.Config, error) {
		return startDevIdP(lc, cfg, log)
	})
}

// readinessChecks lists what /readyz checks.
func readinessChecks(db *store.Health, idp *keycloak.Health) []ports.HealthCheck {
	return []ports.HealthCheck{db, idp}
}

// httpHandlersIn are the use cases the router needs.
type httpHandlersIn struct {
	fx.In
	IdP                ports.IdentityProvider
	Readiness          *application.CheckReadinessHandler
	StartSignIn        *application.StartSignInHandler
	CompleteSignIn     *application.CompleteSignInHandler
	GetSession         *application.GetSessionHandler
	SignOut            *application.SignOutHandler
	SwitchOrganization *application.SwitchOrganizationHandler
	GetAccessToken     *application.GetAccessTokenHandler
	AuthorizeUpstream  *application.AuthorizeUpstreamHandler
	ListSessions       *application.ListSessionsHandler
	RevokeSession      *application.RevokeSessionHandler
	UserSessions       *application.UserSessionsHandler
	SessionStats       *application.SessionStatsHandler
	Cleanup            *application.CleanupSessionsHandler
	BackchannelLogout  *application.BackchannelLogoutHandler
	Metrics            *metrics.Metrics
	Proxy              http.Handler
}

func newHTTPHandlers(in httpHandlersIn) httpapi.Handlers {
	return httpapi.Handlers{
		Provider:           providerInfo(in.IdP),
		Readiness:          in.Readiness,
		StartSignIn:        in.StartSignIn,
		CompleteSignIn:     in.CompleteSignIn,
		GetSession:         in.GetSession,
		SignOut:            in.SignOut,
		SwitchOrganization: in.SwitchOrganization,
		GetAccessToken:     in.GetAccessToken,
		AuthorizeUpstream:  in.AuthorizeUpstream,
		ListSessions:       in.ListSessions,
		RevokeSession:      in.RevokeSession,
		UserSessions:       in.UserSessions,
		SessionStats:       in.SessionStats,
		Cleanup:            in.Cleanup,
		BackchannelLogout:  in.BackchannelLogout,
		Metrics:            in.Metrics.Handler(),
		Proxy:              in.Proxy,
	}
}

// newProxy builds the reverse proxy, or returns nil when no backend API is
// configured (the route then answers 404 proxy_disabled).
func newProxy(cfg Config, log *slog.Logger, m *metrics.Metrics) (http.Handler, error) {
	if cfg.Upstream == nil {
		return nil, nil
	}
	p, err := proxy.New(proxy.Config{Upstream: cfg.Upstream, StripPrefix: httpapi.ProxyPrefix, PublicURL: cfg.HTTP.PublicURL}, log)
	if err != nil {
		return nil, err
	}
	return m.InstrumentProxy(p), nil
}

// providerInfo is what the HTTP adapter needs to know about the IdP, as
// plain values: its id and name, and where the built-in pages send browsers.
func providerInfo(idp ports.IdentityProvider) httpapi.ProviderInfo {
	ep := idp.BrowserEndpoints()
	return httpapi.ProviderInfo{ID: idp.ID(), Name: idp.Name(), AuthorizationURL: ep.Authorization, EndSessionURL: ep.EndSession}
}
