package httpapi

import (
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/authbff/authbff/application"
)

// tokenJSON is the body of GET /api/auth/token, the endpoint the replaced
// app's server-side code fetched its access token from. Only the access
// token: never the refresh or ID token.
type tokenJSON struct {
	AccessToken string `json:"accessToken"`
	ExpiresAt   string `json:"expiresAt"`
	TokenType   string `json:"tokenType"`
}

// getToken is GET /api/auth/token (SECURITY A.7): custom header or
// same-origin required, no-store, rate limited per session, audited without
// the token.
func (a *authAPI) getToken(c *gin.Context) {
	setNoStore(c)
	c.Header("Cache-Control", "no-store")
	if !a.sameOriginOrHeader(c) {
		respondError(c, errCSRF)
		return
	}
	info, ok := a.requireSession(c)
	if !ok {
		return
	}
	if !a.tokenLimiter.allow(info.Session.ID(), time.Now()) {
		c.Header("Retry-After", "1")
		respondError(c, errRateLimited)
		return
	}
	tok, err := a.h.GetAccessToken.Handle(c.Request.Context(), application.GetAccessToken{Session: info.Session})
	if err != nil {
		a.clearIfEnded(c, err)
		respondError(c, err)
		return
	}
	a.log.InfoContext(c.Request.Context(), "access token issued", "user_id", info.User.ID,
		"session_id", info.Session.ID(), "refreshed", tok.Refreshed, "request_id", requestIDOf(c))
	c.JSON(http.StatusOK, tokenJSON{AccessToken: tok.Value, ExpiresAt: tok.ExpiresAt.UTC().Format(time.RFC3339), TokenType: tok.TokenType})
}

// clearIfEnded clears the session cookie when the IdP ended the session.
func (a *authAPI) clearIfEnded(c *gin.Context, err error) {
	if isSessionEnded(err) {
		a.cookies.clearSession(c.Writer, c.Request)
	}
}

// windowLimiter allows at most n calls per key per second (a fixed window).
// It is per process: with R replicas a session gets at most R·n.
type windowLimiter struct {
	mu     sync.Mutex
	n      int
	window int64
	counts map[string]int
}

func newWindowLimiter(n int) *windowLimiter { return &windowLimiter{n: n, counts: map[string]int{}} }

func (l *windowLimiter) allow(key string, now time.Time) bool {
	if l == nil || l.n <= 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if w := now.Unix(); w != l.window {
		l.window = w
		clear(l.counts)
	}
	l.counts[key]++
	return l.counts[key] <= l.n
}
