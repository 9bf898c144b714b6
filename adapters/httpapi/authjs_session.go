package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/authbff/authbff/application"
	"github.com/authbff/authbff/domain"
)

// sessionJSON is the body of GET /session: Auth.js's default shape (user
// with name, email, image; expires) plus what authbff adds. Never tokens.
type sessionJSON struct {
	User               sessionUserJSON `json:"user"`
	Expires            string          `json:"expires"`
	Organizations      []orgJSON       `json:"organizations"`
	ActiveOrganization *orgJSON        `json:"activeOrganization"`
}

type sessionUserJSON struct {
	ID    string   `json:"id"`
	Name  *string  `json:"name"`
	Email *string  `json:"email"`
	Image *string  `json:"image"`
	Roles []string `json:"roles"`
}

// orgJSON's id is the IdP's organization id, null while it is unknown (the
// alias then names the organization, e.g. to switch to it).
type orgJSON struct {
	ID       *string `json:"id"`
	Alias    string  `json:"alias"`
	Name     string  `json:"name"`
	TenantID string  `json:"tenantId"`
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func toOrgJSON(o domain.Organization) orgJSON {
	return orgJSON{ID: nullable(o.ExternalID), Alias: o.Alias, Name: o.Name, TenantID: o.TenantKey()}
}

func toSessionJSON(info application.SessionInfo) sessionJSON {
	out := sessionJSON{
		User: sessionUserJSON{
			ID: info.User.ID, Name: nullable(info.User.Name), Email: nullable(info.User.Email),
			Image: nullable(info.User.Image), Roles: roleNames(info.Roles),
		},
		Expires:       info.StoredExpires.UTC().Format("2006-01-02T15:04:05.000Z"),
		Organizations: make([]orgJSON, 0, len(info.Organizations)),
	}
	for _, o := range info.Organizations {
		out.Organizations = append(out.Organizations, toOrgJSON(o))
	}
	if info.ActiveOrganization != nil {
		o := toOrgJSON(*info.ActiveOrganization)
		out.ActiveOrganization = &o
	}
	return out
}

// roleNames lists role names once each, realm and client roles alike.
func roleNames(roles []domain.Role) []string {
	seen := map[string]bool{}
	out := make([]string, 0, len(roles))
	for _, r := range roles {
		if !seen[r.Name] {
			seen[r.Name] = true
			out = append(out, r.Name)
		}
	}
	return out
}

// getSession is GET /session (contract C5): null without a session; the
// session JSON and a re-sent cookie with a fresh expiry otherwise. An
// unknown or expired token clears the cookie. A database outage is a 503 and
// clears nothing, so the session survives the outage.
func (a *authAPI) getSession(c *gin.Context) {
	r := a.newAuthRequest(c)
	info, ok := a.resolveSession(r)
	if !ok {
		return
	}
	r.flush()
	body := info.Rendered.Load()
	if body == nil {
		body, _ = json.Marshal(toSessionJSON(info))
		info.Rendered.Store(body)
	}
	writeJSONBytes(c, http.StatusOK, body, true)
}

// resolveSession loads the request's session. It writes the response itself
// (null, or a 503) and returns false when there is none to show.
func (a *authAPI) resolveSession(r *authRequest) (application.SessionInfo, bool) {
	c := r.c
	token := a.cookies.sessionToken(c.Request)
	if token == "" {
		r.flush()
		writeJSON(c, http.StatusOK, nil, true)
		return application.SessionInfo{}, false
	}
	info, err := a.h.GetSession.Handle(c.Request.Context(), application.GetSession{Token: token, ViewOnly: true})
	switch {
	case err == nil:
		a.cookies.set(c.Writer, a.cookies.session, token, info.CookieExpires, 0)
		return info, true
	case errors.Is(err, domain.ErrSessionNotFound), errors.Is(err, domain.ErrSessionExpired):
		r.flush()
		a.cookies.clearSession(c.Writer, c.Request)
		writeJSON(c, http.StatusOK, nil, true)
	default:
		a.unavailable(c, err)
	}
	return application.SessionInfo{}, false
}

// unavailable answers a dependency failure: 503 with Retry-After and a JSON
// null body (the Auth.js client treats any non-2xx as "no session" without
// dropping its cookie), never a 500.
func (a *authAPI) unavailable(c *gin.Context, err error) {
	_ = c.Error(err)
	status, _, _ := statusOf(err)
	if status < 500 {
		status = http.StatusServiceUnavailable
	}
	if errors.Is(err, domain.ErrUnavailable) {
		status = http.StatusServiceUnavailable
		c.Header("Retry-After", "5")
	}
	writeJSON(c, status, nil, true)
}

// updateSession is POST /session (client update(data)): CSRF-checked (400
// null on failure); data.organizationId switches the active organization,
// rotating the session token.
func (a *authAPI) updateSession(c *gin.Context) {
	r := a.newAuthRequest(c)
	if !r.csrfVerified {
		writeJSON(c, http.StatusBadRequest, nil, false)
		return
	}
	token := a.cookies.sessionToken(c.Request)
	if token == "" {
		r.flush()
		writeJSON(c, http.StatusOK, nil, false)
		return
	}
	info, err := a.h.GetSession.Handle(c.Request.Context(), application.GetSession{Token: token})
	if errors.Is(err, domain.ErrSessionNotFound) || errors.Is(err, domain.ErrSessionExpired) {
		r.flush()
		a.cookies.clearSession(c.Writer, c.Request)
		writeJSON(c, http.StatusOK, nil, false)
		return
	}
	if err != nil {
		a.unavailable(c, err)
		return
	}
	var data struct {
		OrganizationID string `json:"organizationId"`
	}
	if len(r.data) > 0 {
		_ = json.Unmarshal(r.data, &data)
	}
	if a.h.SwitchOrganization != nil && domain.NeedsSwitch(info.ActiveOrganization, data.OrganizationID) {
		res, err := a.h.SwitchOrganization.Handle(c.Request.Context(), application.SwitchOrganization{
			SessionID: info.Session.ID(), UserID: info.User.ID, OrganizationID: data.OrganizationID,
		})
		if err != nil {
			respondError(c, err)
			return
		}
		token = string(res.SessionToken)
		if info, err = a.h.GetSession.Handle(c.Request.Context(), application.GetSession{Token: token}); err != nil {
			a.unavailable(c, err)
			return
		}
	}
	r.flush()
	a.cookies.set(c.Writer, a.cookies.session, token, info.CookieExpires, 0)
	writeJSON(c, http.StatusOK, toSessionJSON(info), false)
}

// getCSRF is GET /csrf.
func (a *authAPI) getCSRF(c *gin.Context) {
	r := a.newAuthRequest(c)
	r.flush()
	writeJSON(c, http.StatusOK, map[string]string{"csrfToken": r.csrfToken}, true)
}

// getProviders is GET /providers: no cookies.
func (a *authAPI) getProviders(c *gin.Context) {
	p := a.provider
	writeJSON(c, http.StatusOK, map[string]any{p.ID: map[string]string{
		"id": p.ID, "name": p.Name, "type": "oidc",
		"signinUrl":   a.origin + a.basePath + "/signin/" + p.ID,
		"callbackUrl": a.callbackRedirectURI(p.ID),
	}}, false)
}
