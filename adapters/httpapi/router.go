package httpapi

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// ProxyPrefix is where the backend API is mounted.
const ProxyPrefix = "/api/proxy"

// NewRouter builds the gin engine with every route. It is the single place
// that lists the HTTP surface.
func NewRouter(cfg Config, h Handlers, log *slog.Logger) (*gin.Engine, error) {
	if !cfg.Debug {
		gin.SetMode(gin.ReleaseMode)
	}
	r := gin.New()
	// Redirect helpers can turn "//evil.example/" into an off-site redirect
	// (gin PR #3907); authbff never needs them.
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	r.HandleMethodNotAllowed = false
	if err := r.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		return nil, err
	}
	if len(cfg.TrustedProxies) == 0 {
		r.ForwardedByClientIP = false
	}
	r.Use(requestID(r.ForwardedByClientIP), recovery(log), accessLog(log), headerLimit(), securityHeaders(cfg), bodyDeadline(30*time.Second))

	health := healthHandlers{ready: h.Readiness}
	r.GET("/healthz", health.healthz)
	r.GET("/readyz", health.readyz)
	r.GET("/openapi.json", serveOpenAPI)

	auth := newAuthAPI(cfg, h, log)
	r.Use(auth.originGuard(), auth.bodyLimit())
	base := r.Group(cfg.BasePath())
	auth.register(base)
	if !cfg.DisableTokenEndpoint {
		base.GET("/token", auth.getToken)
	}
	base.POST("/organization", auth.switchOrganization)
	base.GET("/sessions", auth.listSessions)
	base.DELETE("/sessions", auth.revokeOtherSessions)
	base.DELETE("/sessions/:id", auth.revokeSession)
	base.GET("/admin/users/:user/sessions", auth.adminListUserSessions)
	base.DELETE("/admin/users/:user/sessions", auth.adminRevokeUserSessions)
	base.GET("/cleanup", auth.sessionStats)
	base.POST("/cleanup", auth.runCleanup)
	base.POST("/backchannel-logout", auth.backchannelLogout)
	if h.Metrics != nil {
		r.GET("/metrics", metricsGuard(cfg.MetricsToken), gin.WrapH(h.Metrics))
	}

	px := proxyRoute{a: auth, handler: h.Proxy, prefix: ProxyPrefix}
	r.Any(ProxyPrefix+"/*path", px.serve)

	r.NoRoute(func(c *gin.Context) {
		if auth.notFound(c) {
			return
		}
		respondCode(c, http.StatusNotFound, "not_found", "no such route")
	})
	return r, nil
}
