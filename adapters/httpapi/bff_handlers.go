package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path"
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
	m := c.Request.Method
	if m == http.MethodTrace || m == http.MethodConnect {
		respondCode(c, http.StatusMethodNotAllowed, "method_not_allowed", "TRACE and CONNECT are not proxied")
		return
	}
	if unsafeMethod(m) && !p.a.sameOriginOrHeader(c) {
		respondError(c, errCSRF)
		return
	}
	// A cross-site page must not get the backend's answer rendered on the
	// app's origin with the user's token behind it (a navigation carries the
	// SameSite=Lax cookie): safe methods are refused when the browser says
	// the request is cross-site, unless it carries the custom header.
	if site := c.GetHeader("Sec-Fetch-Site"); (site == "cross-site" || site == "same-site") && c.GetHeader("X-CSRF") != "1" {
		respondError(c, errCSRF)
		return
	}
	upstreamPath, ok := cleanProxyPath(c.Request.URL, p.prefix)
	if !ok {
		respondCode(c, http.StatusBadRequest, "invalid_path", "the path must be plain: no '..', '.', '//', ';', '\\', encoded separators or '%25'")
		return
	}
	info, ok := p.a.requireSession(c)
	if !ok {
		return
	}
	creds, err := p.a.h.AuthorizeUpstream.Handle(c.Request.Context(), application.AuthorizeUpstream{Session: info, Path: upstreamPath})
	if err != nil {
		p.a.clearIfEnded(c, err)
		respondError(c, err)
		return
	}
	// The proxy forwards exactly the path the rules were checked against.
	req := c.Request.WithContext(application.WithUpstreamCredentials(c.Request.Context(), creds))
	u := *req.URL
	u.Path, u.RawPath = p.prefix+upstreamPath, ""
	req.URL = &u
	p.handler.ServeHTTP(c.Writer, req)
	c.Abort()
}

// cleanProxyPath returns the upstream path of a proxied request, or false
// when the path is anything but plain. Ambiguous paths are refused rather
// than normalised, because the role rules, the proxy and the backend must
// all see the same path (a rule on /admin must not be bypassed by
// //admin, /x/../admin, /./admin, /admin;x or /%2e%2e/admin).
func cleanProxyPath(u *url.URL, prefix string) (string, bool) {
	raw := u.EscapedPath()
	lower := strings.ToLower(raw)
	// %25 too: "%252e%252e" decodes once to "%2e%2e", which a backend that
	// decodes again reads as "..".
	for _, bad := range []string{"%2f", "%5c", "%2e", "%00", "%3b", "%25"} {
		if strings.Contains(lower, bad) {
			return "", false
		}
	}
	p := strings.TrimPrefix(u.Path, prefix)
	if p == "" || p[0] != '/' || strings.ContainsAny(p, ";\\\x00") || strings.Contains(p, "//") {
		return "", false
	}
	if cleaned := path.Clean(p); cleaned != strings.TrimSuffix(p, "/") && cleaned != p {
		return "", false
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return "", false
		}
	}
	return p, true
}
