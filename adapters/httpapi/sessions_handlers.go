package httpapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/authbff/authbff/application"
)

// sessionSummaryJSON is one session in GET /api/auth/sessions.
type sessionSummaryJSON struct {
	ID         string `json:"id"`
	CreatedAt  string `json:"createdAt"`
	LastSeenAt string `json:"lastSeenAt"`
	Expires    string `json:"expires"`
	IPAddress  string `json:"ipAddress"`
	UserAgent  string `json:"userAgent"`
	Current    bool   `json:"current"`
}

func toSummariesJSON(in []application.SessionSummary) []sessionSummaryJSON {
	out := make([]sessionSummaryJSON, 0, len(in))
	for _, s := range in {
		out = append(out, sessionSummaryJSON{
			ID: s.ID, CreatedAt: iso(s.CreatedAt), LastSeenAt: iso(s.LastSeenAt), Expires: iso(s.Expires),
			IPAddress: s.IPAddress, UserAgent: s.UserAgent, Current: s.Current,
		})
	}
	return out
}

func iso(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// listSessions is GET /api/auth/sessions: the caller's active sessions.
func (a *authAPI) listSessions(c *gin.Context) {
	info, ok := a.requireSession(c)
	if !ok {
		return
	}
	list, err := a.h.ListSessions.Handle(c.Request.Context(), application.ListSessions{UserID: info.User.ID, CurrentSessionID: info.Session.ID()})
	if err != nil {
		respondError(c, err)
		return
	}
	writeJSON(c, http.StatusOK, map[string]any{"sessions": toSummariesJSON(list)}, true)
}

// revokeSession is DELETE /api/auth/sessions/:id: one of the caller's own
// sessions (404 for anyone else's). Revoking the current one signs out.
func (a *authAPI) revokeSession(c *gin.Context) {
	info, ok := a.requireSessionForChange(c)
	if !ok {
		return
	}
	id := c.Param("id")
	if err := a.h.RevokeSession.Handle(c.Request.Context(), application.RevokeSession{UserID: info.User.ID, SessionID: id}); err != nil {
		respondError(c, err)
		return
	}
	if id == info.Session.ID() {
		a.cookies.clearSession(c.Writer, c.Request)
	}
	c.Status(http.StatusNoContent)
}

// revokeOtherSessions is DELETE /api/auth/sessions: all but the current one.
func (a *authAPI) revokeOtherSessions(c *gin.Context) {
	info, ok := a.requireSessionForChange(c)
	if !ok {
		return
	}
	n, err := a.h.RevokeSession.HandleOthers(c.Request.Context(), application.RevokeOtherSessions{UserID: info.User.ID, CurrentSessionID: info.Session.ID()})
	if err != nil {
		respondError(c, err)
		return
	}
	writeJSON(c, http.StatusOK, map[string]int64{"revoked": n}, true)
}
