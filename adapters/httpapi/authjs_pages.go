package httpapi

import (
	"html/template"
	"net/http"

	"github.com/gin-gonic/gin"
)

// The pages are minimal: most apps use their own sign-in page and the
// next-auth client never renders these.
var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{{.Title}}</title>
<style>` + pageStyle + `</style></head>
<body><h1>{{.Title}}</h1>
{{if .Message}}<p class="err" role="alert">{{.Message}}</p>{{end}}
{{if .Question}}<p>{{.Question}}</p>{{end}}
{{if .Action}}<form id="f" method="post" action="{{.Action}}">
<input type="hidden" name="csrfToken" value="{{.CSRFToken}}">
<input type="hidden" name="callbackUrl" value="{{.CallbackURL}}">
<button type="submit">{{.Button}}</button></form>
{{if .AutoSubmit}}<script>` + autoSubmitScript + `</script>{{end}}{{end}}
{{if .Home}}<p><a href="{{.Home}}">Back to the application</a></p>{{end}}
</body></html>`))

// pageStyle and autoSubmitScript are the pages' only inline style and
// script; the CSP allows exactly these by hash (see pageCSP).
const (
	pageStyle = `body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem}
button{font-size:1rem;padding:.6rem 1.2rem;cursor:pointer}.err{color:#b00020}`
	autoSubmitScript = `document.getElementById("f").submit()`
)

// page is one built-in page: Message is an error, Question a plain prompt.
type page struct {
	Title, Message, Question, Action, CSRFToken, CallbackURL, Button, Home string
	AutoSubmit                                                             bool
	// formOrigins are the other origins the form's POST may be redirected
	// to (see pageCSP).
	formOrigins []string
}

func renderPage(c *gin.Context, status int, p page) {
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Security-Policy", pageCSP(p.Action != "", p.formOrigins))
	c.Status(status)
	_ = pageTmpl.Execute(c.Writer, p)
	c.Abort()
}

// errorMessages are the user-facing texts per Auth.js error type.
var errorMessages = map[string]string{
	"Configuration":         "There is a problem with the server configuration, or the sign-in could not be verified. Please try again.",
	"AccessDenied":          "You do not have permission to sign in.",
	"Verification":          "The sign-in link is no longer valid.",
	"OAuthCallbackError":    "The identity provider could not confirm your sign-in. Please try again.",
	"OAuthAccountNotLinked": "This email address is already used by another account.",
	"MissingCSRF":           "Your sign-in form expired. Please try again.",
	"SessionRequired":       "Please sign in to access this page.",
	"Unavailable":           "The service is temporarily unavailable. Please try again in a moment.",
	"RateLimited":           "Too many sign-in attempts. Please wait a moment and try again.",
}

func errorMessage(t string) string {
	if m, ok := errorMessages[t]; ok {
		return m
	}
	return "Something went wrong. Please try again."
}

// signinPage is GET /signin. With one provider and no error it auto-submits
// the CSRF-protected POST to /signin/:provider; with an error it shows it and
// a button, so a failing sign-in never loops.
func (a *authAPI) signinPage(c *gin.Context) {
	r := a.newAuthRequest(c)
	r.flush()
	errType := c.Query("error")
	p := page{
		Title: "Sign in", Action: a.basePath + "/signin/" + a.provider.ID, CSRFToken: r.csrfToken,
		CallbackURL: r.callbackURL, Button: "Sign in with " + a.provider.Name,
		formOrigins: []string{a.provider.AuthorizationURL},
		// Auto-submit only for the app's own navigations: a cross-site link
		// must not start a silent sign-in (the user clicks instead).
		AutoSubmit: errType == "" && c.GetHeader("Sec-Fetch-Site") != "cross-site" && c.GetHeader("Sec-Fetch-Site") != "same-site",
	}
	if errType != "" {
		p.Message = errorMessage(errType)
	}
	renderPage(c, http.StatusOK, p)
}

// signoutPage is GET /signout: a confirmation form (POST needs the CSRF
// token). Its POST goes on to the IdP's end-session endpoint, and from
// there to AUTH_POST_LOGOUT_REDIRECT_URL when that is set.
func (a *authAPI) signoutPage(c *gin.Context) {
	r := a.newAuthRequest(c)
	r.flush()
	renderPage(c, http.StatusOK, page{
		Title: "Sign out", Question: "Are you sure you want to sign out?", Action: a.basePath + "/signout",
		CSRFToken: r.csrfToken, CallbackURL: r.callbackURL, Button: "Sign out",
		formOrigins: []string{a.provider.EndSessionURL, a.postLogoutRedirect},
	})
}

// errorPage is GET /error?error=Type: 500 for Configuration, 403 for
// AccessDenied and Verification, 200 otherwise (contract C4).
func (a *authAPI) errorPage(c *gin.Context) {
	t := c.Query("error")
	status := http.StatusOK
	switch t {
	case "Configuration":
		status = http.StatusInternalServerError
	case "AccessDenied", "Verification":
		status = http.StatusForbidden
	}
	a.renderError(c, status, t)
}

func (a *authAPI) renderError(c *gin.Context, status int, t string) {
	renderPage(c, status, page{Title: "Sign-in error", Message: errorMessage(t), Home: a.origin + "/"})
}
