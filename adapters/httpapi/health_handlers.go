package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/authbff/authbff/application"
)

// healthHandlers serve /healthz (the process is alive) and /readyz (its
// dependencies are usable). Neither depends on anything the client sends.
type healthHandlers struct {
	ready *application.CheckReadinessHandler
}

func (h healthHandlers) healthz(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

func (h healthHandlers) readyz(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	res := h.ready.Handle(c.Request.Context())
	status := http.StatusOK
	if !res.Ready {
		status = http.StatusServiceUnavailable
	}
	c.JSON(status, gin.H{"ready": res.Ready, "checks": res.Checks})
}
