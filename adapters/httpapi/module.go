package httpapi

import (
	"net/http"

	"go.uber.org/fx"

	"github.com/authbff/authbff/application"
)

// Handlers are the use cases the routes call, and the provider they serve.
// It is an fx parameter object, so the wiring lists no field twice; tests
// build it as a plain struct.
type Handlers struct {
	fx.In

	Provider           ProviderInfo
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
	// Metrics serves /metrics, or nil.
	Metrics http.Handler `name:"metrics" optional:"true"`
	// Proxy is the reverse proxy to the backend API, or nil when none is
	// configured.
	Proxy http.Handler `name:"proxy" optional:"true"`
}

// Module provides the router and the server and attaches the server to the
// fx lifecycle. This Invoke is what makes fx build the HTTP graph.
var Module = fx.Module("httpapi",
	fx.Provide(NewRouter, NewServer),
	fx.Invoke(registerServer),
)

func registerServer(lc fx.Lifecycle, s *Server) {
	lc.Append(fx.StartStopHook(s.Start, s.Stop))
}
