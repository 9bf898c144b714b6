package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/authbff/authbff/application"
)

// Handlers are the use cases the routes call.
type Handlers struct {
	Readiness *application.CheckReadinessHandler
}

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
	r.Use(requestID(), recovery(log), accessLog(log))

	health := healthHandlers{ready: h.Readiness}
	r.GET("/healthz", health.healthz)
	r.GET("/readyz", health.readyz)

	r.NoRoute(func(c *gin.Context) { respondCode(c, http.StatusNotFound, "not_found", "no such route") })
	return r, nil
}
