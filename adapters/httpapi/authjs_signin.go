package httpapi

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/authbff/authbff/application"
	"github.com/authbff/authbff/domain"
)

// signin is POST /signin/:provider (contract C5): CSRF check, a server-side
// login flow bound to this browser, and the IdP's authorization URL as a
// redirect (or 200 {url} for the next-auth client).
func (a *authAPI) signin(c *gin.Context) {
	r := a.newAuthRequest(c)
	if r.badCallback {
		r.fail("Configuration")
		return
	}
	if !r.csrfVerified {
		r.fail("MissingCSRF")
		return
	}
	provider := c.Param("provider")
	if provider != a.provider.ID || !a.signInConfigured() {
		r.fail("Configuration")
		return
	}
	// Every started sign-in stores a row for 15 minutes: one client may not
	// start more than a few per second.
	if !a.signinLimiter.allow(clientIP(c), time.Now()) {
		c.Header("Retry-After", "1")
		writeJSON(c, http.StatusTooManyRequests, map[string]string{"url": a.origin + a.basePath + "/error?error=RateLimited"}, false)
		return
	}
	// The binding value lives only in this browser's cookie; the flow row
	// keeps its hash. A state value alone cannot complete the sign-in.
	binding := randomValue()
	params := map[string]string{}
	for k, v := range c.Request.URL.Query() {
		if len(v) == 1 {
			params[k] = v[0]
		}
	}
	res, err := a.h.StartSignIn.Handle(c.Request.Context(), application.StartSignIn{
		Provider:       provider,
		RedirectURI:    a.callbackRedirectURI(provider),
		CallbackURL:    r.callbackURL,
		BrowserBinding: domain.HashSecret(binding),
		Params:         params,
	})
	if err != nil {
		a.signInFailure(r, err)
		return
	}
	ttl := application.LoginFlowTTL
	a.cookies.set(c.Writer, a.cookies.pkce, binding, time.Now().Add(ttl), int(ttl.Seconds()))
	r.redirect(res.AuthorizationURL)
}

// callback is GET|POST /callback/:provider: Keycloak's redirect back with
// code, state, session_state and iss (in the body for form_post).
func (a *authAPI) callback(c *gin.Context) {
	r := a.newAuthRequest(c)
	provider := c.Param("provider")
	if provider != a.provider.ID || !a.signInConfigured() {
		r.fail("Configuration")
		return
	}
	get := func(k string) (string, bool) {
		if c.Request.Method == http.MethodPost {
			v, ok := r.body[k]
			return v, ok
		}
		vals, ok := c.Request.URL.Query()[k]
		if !ok {
			return "", false
		}
		if len(vals) != 1 { // parameter pollution: refuse duplicates outright
			return "", true
		}
		return vals[0], true
	}
	state, _ := get("state")
	code, _ := get("code")
	iss, _ := get("iss")
	providerErr, hasErr := get("error")
	if hasErr && providerErr == "" {
		providerErr = "invalid_request"
	}
	binding := cookieValue(c.Request, a.cookies.pkce)
	var bindingHash domain.TokenHash
	if binding != "" {
		bindingHash = domain.HashSecret(binding)
	}
	res, err := a.h.CompleteSignIn.Handle(c.Request.Context(), application.CompleteSignIn{
		Provider: provider, State: state, Code: code, Issuer: iss, ProviderError: providerErr,
		BrowserBinding: bindingHash, IPAddress: clientIP(c), UserAgent: c.Request.UserAgent(),
		PreviousToken: a.cookies.sessionToken(c.Request),
	})
	a.cookies.clear(c.Writer, a.cookies.pkce)
	c.Header("Cache-Control", "no-store") // it sets the session cookie
	if err != nil {
		a.signInFailure(r, err)
		return
	}
	a.cookies.set(c.Writer, a.cookies.session, string(res.SessionToken), res.Expires, 0)
	target := res.CallbackURL
	if target == "" {
		target = a.origin
	}
	r.redirect(target)
}

// signInFailure maps sign-in errors to Auth.js error types. An outage is a
// 503 page, not an error redirect: nothing is wrong with the user's request.
func (a *authAPI) signInFailure(r *authRequest, err error) {
	_ = r.c.Error(err)
	switch {
	case errors.Is(err, domain.ErrUnavailable):
		r.c.Header("Retry-After", "5")
		a.renderError(r.c, http.StatusServiceUnavailable, "Unavailable")
	case errors.Is(err, application.ErrTooManyPendingSignIns):
		r.c.Header("Retry-After", "60")
		a.renderError(r.c, http.StatusServiceUnavailable, "Unavailable")
	case errors.Is(err, application.ErrProviderError), errors.Is(err, application.ErrIssuerMismatch),
		errors.Is(err, application.ErrAuthorizationFailed):
		a.log.WarnContext(r.c.Request.Context(), "sign-in refused", "reason", err.Error())
		r.fail("OAuthCallbackError")
	case errors.Is(err, domain.ErrConflict):
		r.fail("OAuthAccountNotLinked")
	default:
		if !errors.Is(err, application.ErrSignInCheckFailed) && !errors.Is(err, application.ErrUnknownProvider) {
			a.log.ErrorContext(r.c.Request.Context(), "sign-in failed", "error", err.Error())
		} else {
			a.log.WarnContext(r.c.Request.Context(), "sign-in check failed", "reason", err.Error())
		}
		r.fail("Configuration")
	}
}

// randomValue returns 32 random bytes, base64url.
func randomValue() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
