package devidp

import (
	"html/template"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/op"
)

// The login UI's paths and form fields. The package doc describes the form.
const (
	loginPath               = "/login"
	loginSelectPath         = "/login/select"
	loggedOutPath           = "/logged-out"
	loginFieldAuthRequestID = "authRequestID"
	loginFieldUsername      = "username"
)

// loginUI serves the page that lists the demo users and signs in the one
// picked. There are no passwords: this provider only runs on loopback.
type loginUI struct {
	issuer   string
	storage  *storage
	provider *op.Provider
	log      *slog.Logger
}

type loginUser struct {
	DemoUser
	Roles string
	Orgs  string
}

type loginPage struct {
	AuthRequestID string
	Action        string
	IDField       string
	UserField     string
	Users         []loginUser
}

var loginTemplate = template.Must(template.New("login").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>authbff development sign-in</title>
<style>
body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#222}
form{margin:0 0 .75rem}
button{width:100%;text-align:left;padding:.75rem 1rem;border:1px solid #bbb;border-radius:.4rem;background:#fafafa;cursor:pointer;font:inherit}
button:hover{background:#eef}
small{color:#555;display:block}
</style>
</head>
<body>
<h1>Development sign-in</h1>
<p>This is authbff's embedded development identity provider. Pick a demo user.</p>
{{range .Users}}<form method="post" action="{{$.Action}}">
<input type="hidden" name="{{$.IDField}}" value="{{$.AuthRequestID}}">
<input type="hidden" name="{{$.UserField}}" value="{{.Username}}">
<button type="submit" id="login-{{.Username}}">{{.Name}} ({{.Username}})<small>{{.Email}} · roles: {{.Roles}} · organizations: {{.Orgs}}</small></button>
</form>
{{end}}</body>
</html>
`))

var messageTemplate = template.Must(template.New("message").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.}}</title></head>
<body style="font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto"><p>{{.}}</p></body></html>
`))

// setPageHeaders keeps the pages out of caches and frames. There is no
// form-action directive: browsers would apply it to the redirect back to
// the client too.
func setPageHeaders(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
}

func writeMessage(w http.ResponseWriter, status int, msg string) {
	setPageHeaders(w)
	w.WriteHeader(status)
	_ = messageTemplate.Execute(w, msg)
}

// showLogin renders the user list for a pending authorization request.
func (l *loginUI) showLogin(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get(loginFieldAuthRequestID)
	if _, err := l.storage.AuthRequestByID(r.Context(), id); err != nil {
		writeMessage(w, http.StatusBadRequest, "This sign-in request is unknown or has expired. Start again from the application.")
		return
	}
	page := loginPage{
		AuthRequestID: id,
		Action:        loginSelectPath,
		IDField:       loginFieldAuthRequestID,
		UserField:     loginFieldUsername,
	}
	for _, u := range Users() {
		roles := slices.Clone(u.RealmRoles)
		roles = append(roles, u.ClientRoles...)
		orgs := strings.Join(u.Organizations, ", ")
		if orgs == "" {
			orgs = "none"
		}
		page.Users = append(page.Users, loginUser{DemoUser: u, Roles: strings.Join(roles, ", "), Orgs: orgs})
	}
	setPageHeaders(w)
	if err := loginTemplate.Execute(w, page); err != nil {
		l.log.Error("devidp: render login page", slog.Any("error", err))
	}
}

// selectUser signs in the posted user and sends the browser to the
// library's callback, which redirects to the client with code and state.
func (l *loginUI) selectUser(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeMessage(w, http.StatusBadRequest, "The sign-in form could not be read.")
		return
	}
	id := r.PostForm.Get(loginFieldAuthRequestID)
	u, ok := userByUsername(r.PostForm.Get(loginFieldUsername))
	if !ok {
		writeMessage(w, http.StatusBadRequest, "Unknown demo user.")
		return
	}
	if err := l.storage.completeLogin(id, u); err != nil {
		writeMessage(w, http.StatusBadRequest, "This sign-in request is unknown, expired or already used. Start again from the application.")
		return
	}
	l.log.Info("devidp: signed in demo user", slog.String("username", u.Username))
	callback := op.AuthCallbackURL(l.provider)(op.ContextWithIssuer(r.Context(), l.issuer), id)
	http.Redirect(w, r, callback, http.StatusSeeOther)
}

// loggedOut is where logout ends when the client named no redirect.
func (l *loginUI) loggedOut(w http.ResponseWriter, _ *http.Request) {
	writeMessage(w, http.StatusOK, "You are signed out of the development identity provider.")
}
