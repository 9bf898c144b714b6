package httpapi

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/authbff/authbff/adapters/httpshared"
)

var zeroTime time.Time

// ProviderInfo describes the configured identity provider for GET
// /providers and the built-in pages.
type ProviderInfo struct {
	ID   string
	Name string
	// AuthorizationURL and EndSessionURL are the IdP endpoints the sign-in
	// and sign-out pages' forms end up at (through authbff's redirect);
	// their origins are all the pages' CSP form-action allows besides
	// 'self'. EndSessionURL is "" when the IdP has none.
	AuthorizationURL string
	EndSessionURL    string
}

// authAPI serves the Auth.js-compatible routes under the base path.
type authAPI struct {
	origin string
	// originCookie is the origin as the callback-URL cookie carries it.
	originCookie string
	basePath     string
	cookies      cookieNames
	csrf         csrf
	provider     ProviderInfo
	h            Handlers
	log          *slog.Logger
	// postLogoutRedirect is AUTH_POST_LOGOUT_REDIRECT_URL: when set, the
	// post-logout redirect sent to the IdP instead of authbff's own
	// /signout/callback.
	postLogoutRedirect string
	tokenLimiter       *windowLimiter
	signinLimiter      *windowLimiter
	backchannelLimiter *windowLimiter
}

func newAuthAPI(cfg Config, h Handlers, log *slog.Logger) *authAPI {
	a := &authAPI{
		origin: cfg.Origin(), basePath: cfg.BasePath(), cookies: newCookieNames(cfg.Secure()),
		csrf: csrf{secrets: cfg.Secrets}, provider: h.Provider, h: h, log: log,
		postLogoutRedirect: cfg.PostLogoutRedirectURL,
		tokenLimiter:       newWindowLimiter(orDefault(cfg.TokenRateLimit, 10)),
		signinLimiter:      newWindowLimiter(orDefault(cfg.SignInRateLimit, 20)),
		backchannelLimiter: newWindowLimiter(200),
	}
	a.cookies.legacy = cfg.AcceptLegacyCookies
	a.originCookie = url.QueryEscape(a.origin)
	return a
}

// authActions are the Auth.js actions (contract C0); only signin, callback
// and webauthn-options take a provider segment.
var authActions = map[string]bool{
	"providers": true, "session": true, "csrf": true, "signin": true, "signout": true,
	"callback": true, "verify-request": true, "error": true, "webauthn-options": true,
}

// register mounts the routes.
func (a *authAPI) register(g *gin.RouterGroup) {
	g.GET("/session", a.getSession)
	g.POST("/session", a.updateSession)
	g.GET("/csrf", a.getCSRF)
	g.GET("/providers", a.getProviders)
	g.GET("/signin", a.signinPage)
	g.GET("/signin/:provider", a.configurationError) // unsupported in Auth.js v5
	g.POST("/signin/:provider", a.signin)
	g.GET("/callback/:provider", a.callback)
	g.POST("/callback/:provider", a.callback)
	g.GET("/signout", a.signoutPage)
	g.POST("/signout", a.signout)
	g.GET("/signout/callback", a.signoutCallback)
	g.GET("/error", a.errorPage)
}

// notFound answers unmatched paths under the base path as Auth.js does:
// 400 "Bad request." for unknown actions, methods or shapes; a
// Configuration error for a known action with the wrong method.
func (a *authAPI) notFound(c *gin.Context) bool {
	path := c.Request.URL.Path
	if !strings.HasPrefix(path, a.basePath+"/") && path != a.basePath {
		return false
	}
	rest := strings.Trim(strings.TrimPrefix(path, a.basePath), "/")
	parts := strings.Split(rest, "/")
	m := c.Request.Method
	known := rest != "" && authActions[parts[0]] && (len(parts) == 1 ||
		len(parts) == 2 && (parts[0] == "signin" || parts[0] == "callback" || parts[0] == "webauthn-options"))
	if (m == http.MethodGet || m == http.MethodPost) && known {
		a.configurationError(c)
		return true
	}
	writeJSON(c, http.StatusBadRequest, "Bad request.", false)
	return true
}

func (a *authAPI) configurationError(c *gin.Context) {
	a.newAuthRequest(c).fail("Configuration")
}

// signoutCallbackURI is authbff's one post-logout redirect URI: the IdP
// client registers it exactly (Keycloak refuses an unregistered
// post_logout_redirect_uri and then does not end its session), and the
// state sent with it says where to go from there.
func (a *authAPI) signoutCallbackURI() string {
	return a.origin + a.basePath + "/signout/callback"
}

// callbackRedirectURI is authbff's OAuth redirect URI for a provider.
func (a *authAPI) callbackRedirectURI(provider string) string {
	return a.origin + a.basePath + "/callback/" + provider
}

// clientIP is the request's client address, as requestID resolved it
// (proxies are trusted only when configured).
func clientIP(c *gin.Context) string {
	if meta, ok := httpshared.RequestFrom(c.Request.Context()); ok {
		return meta.ClientIP
	}
	return c.ClientIP()
}

// signInConfigured guards routes whose use cases are optional in tests.
func (a *authAPI) signInConfigured() bool {
	return a.h.StartSignIn != nil && a.h.CompleteSignIn != nil
}

// orDefault returns n, or def when n is not positive.
func orDefault(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}
