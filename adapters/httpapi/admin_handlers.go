package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/authbff/authbff/application"
	"github.com/authbff/authbff/domain"
)

// userJSON is a user in admin answers.
type userJSON struct {
	ID    string  `json:"id"`
	Name  *string `json:"name"`
	Email *string `json:"email"`
}

func toUserJSON(u domain.User) userJSON {
	return userJSON{ID: u.ID, Name: nullable(u.Name), Email: nullable(u.Email)}
}

// adminListUserSessions is GET /api/auth/admin/users/:user/sessions (admin
// role; :user is an id or an email).
func (a *authAPI) adminListUserSessions(c *gin.Context) {
	info, ok := a.requireSession(c)
	if !ok {
		return
	}
	res, err := a.h.UserSessions.List(c.Request.Context(), application.UserSessions{Caller: application.UserCaller(info), User: c.Param("user")})
	if err != nil {
		respondError(c, err)
		return
	}
	writeJSON(c, http.StatusOK, map[string]any{"user": toUserJSON(res.User), "sessions": toSummariesJSON(res.Sessions)}, true)
}

// adminRevokeUserSessions is DELETE /api/auth/admin/users/:user/sessions.
func (a *authAPI) adminRevokeUserSessions(c *gin.Context) {
	info, ok := a.requireSessionForChange(c)
	if !ok {
		return
	}
	u, n, err := a.h.UserSessions.Revoke(c.Request.Context(), application.UserSessions{Caller: application.UserCaller(info), User: c.Param("user")})
	if err != nil {
		respondError(c, err)
		return
	}
	if u.ID == info.User.ID {
		a.cookies.clearSession(c.Writer, c.Request)
	}
	writeJSON(c, http.StatusOK, map[string]any{"user": toUserJSON(u), "revoked": n}, true)
}

// statsJSON is GET /api/auth/cleanup: the replaced app's monitoring query.
type statsJSON struct {
	Total                 int64            `json:"total"`
	Active                int64            `json:"active"`
	Expired               int64            `json:"expired"`
	AverageDurationHours  float64          `json:"averageDurationHours"`
	CreatedLast24h        int64            `json:"createdLast24h"`
	ActivePerOrganization map[string]int64 `json:"activePerOrganization"`
}

// sessionStats is GET /api/auth/cleanup (admin role, checked by the use
// case).
func (a *authAPI) sessionStats(c *gin.Context) {
	info, ok := a.requireSession(c)
	if !ok {
		return
	}
	st, err := a.h.SessionStats.Handle(c.Request.Context(), application.UserCaller(info))
	if err != nil {
		respondError(c, err)
		return
	}
	writeJSON(c, http.StatusOK, statsJSON{Total: st.Total, Active: st.Active, Expired: st.Expired,
		AverageDurationHours: st.AverageDurationHours, CreatedLast24h: st.CreatedLast24h,
		ActivePerOrganization: st.ActivePerOrganization}, true)
}

// runCleanup is POST /api/auth/cleanup (admin role, checked by the use
// case): runs cleanup now.
func (a *authAPI) runCleanup(c *gin.Context) {
	info, ok := a.requireSessionForChange(c)
	if !ok {
		return
	}
	res, err := a.h.Cleanup.Handle(c.Request.Context(), application.CleanupSessions{Caller: application.UserCaller(info)})
	if err != nil {
		respondError(c, err)
		return
	}
	writeJSON(c, http.StatusOK, map[string]int64{"sessions": res.Sessions, "loginFlows": res.LoginFlows,
		"verificationTokens": res.VerificationTokens, "total": res.Total()}, true)
}
