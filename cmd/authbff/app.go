package main

import (
	"io"
	"log/slog"
	"net/http"
	"time"

	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"

	"github.com/authbff/authbff/adapters/httpapi"
	"github.com/authbff/authbff/adapters/keycloak"
	"github.com/authbff/authbff/adapters/metrics"
	"github.com/authbff/authbff/adapters/proxy"
	"github.com/authbff/authbff/adapters/store"
	"github.com/authbff/authbff/adapters/tokencipher"
	"github.com/authbff/authbff/application"
	"github.com/authbff/authbff/ports"
)

// appOptions is the whole server, as a table of contents: configuration,
// adapters, use cases. `serve` runs it; a test validates the same graph.
func appOptions(cfg Config, logOut io.Writer) fx.Option {
	return fx.Options(
		fx.WithLogger(fxLogger),
		fx.Supply(cfg, newLogger(cfg, logOut), cfg.Store, cfg.HTTP, cfg.Policy, cfg.ProxyRules),
		fx.Supply(application.Clock(application.SystemClock)),
		fx.Supply(tokencipher.Secrets(cfg.Secrets)),
		identityProviderConfig(cfg),
		proxyOption(cfg),

		store.Module,
		metrics.Module,
		tokencipher.Module,
		keycloak.Module,
		httpapi.Module,
		fx.Decorate(func(idp ports.IdentityProvider) ports.IdentityProvider {
			return application.BoundIdentityProvider(idp, cfg.IdPMaxConcurrency)
		}),
		fx.Decorate(func(h *application.StartSignInHandler) *application.StartSignInHandler {
			if cfg.MaxPendingSignIns <= 0 { // a Config not from LoadConfig keeps the default cap
				return h
			}
			return h.WithMaxPending(int64(cfg.MaxPendingSignIns))
		}),

		useCases,
		fx.Provide(readinessChecks, newReadiness, providerInfo),
		fx.Invoke(registerCleanupJob, watchPool),
	)
}

// watchPool exports the PostgreSQL pool's figures (the session read takes
// its connections from the pool directly, past database/sql's statistics)
// and how the session read batches.
func watchPool(m *metrics.Metrics, db *store.DB) {
	m.WatchPool(func() (metrics.PoolStats, bool) {
		s, ok := db.PoolStat()
		if !ok {
			return metrics.PoolStats{}, false
		}
		statements, batched := db.SessionReadStat()
		return metrics.PoolStats{Idle: s.IdleConns(), Acquired: s.AcquiredConns(),
			Max: s.MaxConns(), Acquires: s.AcquireCount(), WaitedAcquires: s.EmptyAcquireCount(),
			AcquireWait: s.EmptyAcquireWaitTime(), SessionReadStatements: statements, SessionReadsBatched: batched}, true
	})
}

// useCases are the application's constructors. The server and the operator
// commands share them; fx builds only those a command asks for.
var useCases = fx.Provide(
	application.NewCleanupSessionsHandler,
	fx.Annotate(application.NewSessionStatsHandler, fx.As(fx.Self()), fx.As(new(metrics.ActiveSessionCounter))),
	application.NewStartSignInHandler,
	application.NewOrganizationIDs,
	application.NewCompleteSignInHandler,
	application.NewGetSessionHandler,
	application.NewSignOutHandler,
	application.NewSwitchOrganizationHandler,
	application.NewGetAccessTokenHandler,
	application.NewAuthorizeUpstreamHandler,
	application.NewListSessionsHandler,
	application.NewRevokeSessionHandler,
	application.NewUserSessionsHandler,
	application.NewBackchannelLogoutHandler,
	application.NewCountUsersHandler,
)

// fxLogger sends fx's own events to the application log at debug level.
func fxLogger(log *slog.Logger) fxevent.Logger {
	l := &fxevent.SlogLogger{Logger: log}
	l.UseLogLevel(slog.LevelDebug)
	return l
}

// identityProviderConfig supplies the Keycloak configuration, or starts the
// embedded development IdP and points the Keycloak adapter at it.
func identityProviderConfig(cfg Config) fx.Option {
	if cfg.Keycloak != nil {
		return fx.Supply(*cfg.Keycloak)
	}
	return fx.Provide(startDevIdP)
}

// proxyOption provides the reverse proxy, instrumented, under the name the
// router asks for; without a backend API nothing is provided and the route
// answers 404 proxy_disabled.
func proxyOption(cfg Config) fx.Option {
	if cfg.Upstream == nil {
		return fx.Options()
	}
	return fx.Options(
		fx.Supply(proxy.Config{Upstream: cfg.Upstream, StripPrefix: httpapi.ProxyPrefix, PublicURL: cfg.HTTP.PublicURL}),
		fx.Provide(proxy.New, fx.Annotate(instrumentedProxy, fx.ResultTags(`name:"proxy"`))),
	)
}

func instrumentedProxy(p *proxy.Proxy, m *metrics.Metrics) http.Handler {
	return m.InstrumentProxy(p)
}

// readinessChecks lists what /readyz checks.
func readinessChecks(db *store.Health, idp *keycloak.Health) []ports.HealthCheck {
	return []ports.HealthCheck{db, idp}
}

// newReadiness bounds /readyz: every check together gets 3 seconds.
func newReadiness(checks []ports.HealthCheck) *application.CheckReadinessHandler {
	return application.NewCheckReadinessHandler(checks, 3*time.Second)
}

// providerInfo is what the HTTP adapter needs to know about the IdP, as
// plain values: its id and name, and where the built-in pages send browsers.
func providerInfo(idp ports.IdentityProvider) httpapi.ProviderInfo {
	ep := idp.BrowserEndpoints()
	return httpapi.ProviderInfo{ID: idp.ID(), Name: idp.Name(), AuthorizationURL: ep.Authorization, EndSessionURL: ep.EndSession}
}
