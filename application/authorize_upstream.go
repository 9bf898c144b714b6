package application

import (
	"context"
	"strings"

	"github.com/authbff/authbff/domain"
)

// PathRule requires one of Roles for requests whose path starts with Prefix
// (a path-segment prefix, compared case-insensitively: "/admin" matches
// "/admin", "/Admin/x", not "/administrator"). The HTTP layer refuses
// ambiguous paths (dot segments, doubled or encoded slashes) before rules
// are checked.
type PathRule struct {
	Prefix string
	Roles  []string
}

// AuthorizeUpstream decides whether a proxied API call may go out and with
// which credentials (the /api/proxy route).
type AuthorizeUpstream struct {
	// Session is the caller's resolved session.
	Session SessionInfo
	// Path is the upstream path, after the proxy prefix.
	Path string
}

// UpstreamCredentials is what the proxy adds to an upstream request.
type UpstreamCredentials struct {
	AccessToken    string
	TokenType      string
	TenantID       string
	OrganizationID string
	UserID         string
	SessionID      string
}

// AuthorizeUpstreamHandler runs AuthorizeUpstream.
type AuthorizeUpstreamHandler struct {
	tokens *GetAccessTokenHandler
	rules  []PathRule
}

// NewAuthorizeUpstreamHandler returns a handler enforcing rules (longest
// matching prefix wins).
func NewAuthorizeUpstreamHandler(tokens *GetAccessTokenHandler, rules []PathRule) *AuthorizeUpstreamHandler {
	return &AuthorizeUpstreamHandler{tokens: tokens, rules: rules}
}

// Handle checks the path rules, then returns a fresh access token and the
// tenant context of the session's active organization. It returns
// domain.ErrForbidden when a rule is not met, and GetAccessToken's errors.
func (h *AuthorizeUpstreamHandler) Handle(ctx context.Context, q AuthorizeUpstream) (UpstreamCredentials, error) {
	if rule, ok := h.match(q.Path); ok && !hasAny(q.Session.Roles, rule.Roles) {
		return UpstreamCredentials{}, domain.ErrForbidden
	}
	tok, err := h.tokens.Handle(ctx, GetAccessToken{Session: q.Session.Session})
	if err != nil {
		return UpstreamCredentials{}, err
	}
	c := UpstreamCredentials{AccessToken: tok.Value, TokenType: tok.TokenType, UserID: q.Session.User.ID, SessionID: q.Session.Session.ID()}
	if o := q.Session.ActiveOrganization; o != nil {
		// Only the IdP's id: with none known, no X-Organization-ID at all.
		c.TenantID, c.OrganizationID = o.TenantKey(), o.ExternalID
	}
	return c, nil
}

func (h *AuthorizeUpstreamHandler) match(path string) (PathRule, bool) {
	best, found := PathRule{}, false
	for _, r := range h.rules {
		// Case-insensitive: some backends match paths that way, and a rule
		// must never be weaker than the backend's routing.
		p := strings.ToLower(strings.TrimSuffix(r.Prefix, "/"))
		lp := strings.ToLower(path)
		if (lp == p || strings.HasPrefix(lp, p+"/") || p == "") && (!found || len(p) > len(best.Prefix)) {
			best, found = PathRule{Prefix: p, Roles: r.Roles}, true
		}
	}
	return best, found
}

func hasAny(roles []domain.Role, names []string) bool {
	for _, n := range names {
		if domain.HasRole(roles, n) {
			return true
		}
	}
	return false
}

type upstreamKey struct{}

// WithUpstreamCredentials returns ctx carrying c, for the reverse proxy the
// HTTP layer hands the authorised request to.
func WithUpstreamCredentials(ctx context.Context, c UpstreamCredentials) context.Context {
	return context.WithValue(ctx, upstreamKey{}, c)
}

// UpstreamCredentialsFrom returns the credentials set by the HTTP layer, if
// any. A proxy must refuse a request without them.
func UpstreamCredentialsFrom(ctx context.Context) (UpstreamCredentials, bool) {
	c, ok := ctx.Value(upstreamKey{}).(UpstreamCredentials)
	return c, ok && c.AccessToken != ""
}
