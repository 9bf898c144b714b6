package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/authbff/authbff/application"
	"github.com/authbff/authbff/domain"
)

// switchOrganization is POST /api/auth/organization {"organizationId": "..."}:
// member only (403 otherwise); the session token rotates.
func (a *authAPI) switchOrganization(c *gin.Context) {
	if !a.sameOriginOrHeader(c) {
		respondError(c, errCSRF)
		return
	}
	var body struct {
		OrganizationID string `json:"organizationId"`
	}
	raw, err := io.ReadAll(io.LimitReader(c.Request.Body, maxAuthBody))
	if err != nil || json.Unmarshal(raw, &body) != nil || body.OrganizationID == "" {
		respondError(c, &domain.ValidationError{Field: "organizationId", Reason: "a JSON body with organizationId is required"})
		return
	}
	info, ok := a.requireSession(c)
	if !ok {
		return
	}
	res, err := a.h.SwitchOrganization.Handle(c.Request.Context(), application.SwitchOrganization{
		SessionID: info.Session.ID(), UserID: info.User.ID, OrganizationID: body.OrganizationID,
	})
	if err != nil {
		respondError(c, err)
		return
	}
	info, err = a.h.GetSession.Handle(c.Request.Context(), application.GetSession{Token: string(res.SessionToken)})
	if err != nil {
		respondError(c, err)
		return
	}
	a.cookies.set(c.Writer, a.cookies.session, string(res.SessionToken), info.CookieExpires, 0)
	writeJSON(c, http.StatusOK, toSessionJSON(info), true)
}

// proxyRoute authenticates /api/proxy/* calls and hands them to the reverse
// proxy with the upstream credentials in the request context.
type proxyRoute struct {
	a       *authAPI
	handler http.Handler
	prefix  string
}

func (p proxyRoute) serve(c *gin.Context) {
	if p.handler == nil {
		respondCode(c, http.StatusNotFound, "proxy_disabled", "no backend API is configured")
		return
	}
	if unsafeMethod(c.Request.Method) && !p.a.sameOriginOrHeader(c) {
		respondError(c, errCSRF)
		return
	}
	info, ok := p.a.requireSession(c)
	if !ok {
		return
	}
	path := strings.TrimPrefix(c.Request.URL.Path, p.prefix)
	creds, err := p.a.h.AuthorizeUpstream.Handle(c.Request.Context(), application.AuthorizeUpstream{Session: info, Path: "/" + strings.TrimPrefix(path, "/")})
	if err != nil {
		p.a.clearIfEnded(c, err)
		respondError(c, err)
		return
	}
	req := c.Request.WithContext(application.WithUpstreamCredentials(c.Request.Context(), creds))
	p.handler.ServeHTTP(c.Writer, req)
	c.Abort()
}
