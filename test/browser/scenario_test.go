package browser

import (
	"encoding/json"
	"github.com/chromedp/chromedp"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// idp is how a user signs in at one identity provider's pages.
type idp struct {
	// name is on the built-in sign-in page's button.
	name string
	// at reports whether a URL is one of the IdP's pages.
	at func(url string) bool
	// login signs user in from the IdP's login page (which it checks is
	// shown: no silent SSO) and returns when the browser is back at done.
	login func(b *browser, user string, done func(string) bool) (string, time.Duration)
}

type organization struct {
	ID       string `json:"id"`
	Alias    string `json:"alias"`
	TenantID string `json:"tenantId"`
}

type session struct {
	User struct {
		Email string `json:"email"`
	} `json:"user"`
	Organizations      []organization `json:"organizations"`
	ActiveOrganization *organization  `json:"activeOrganization"`
}

// timings collects what each step took, printed at the end.
type timings struct {
	t     *testing.T
	steps []string
}

func (m *timings) add(step string, d time.Duration) {
	m.steps = append(m.steps, step+": "+d.Round(time.Millisecond).String())
}

func (m *timings) print() { m.t.Logf("measured:\n  %s", strings.Join(m.steps, "\n  ")) }

// waitStatus waits until the page's useSession() status is want.
func waitStatus(b *browser, want string) {
	b.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	got := ""
	for time.Now().Before(deadline) {
		if got = eval[string](b, `window.authbff ? window.authbff.status() : "loading"`); got == want {
			return
		}
		<-tick.C
	}
	b.t.Fatalf("useSession() status is %q, want %q", got, want)
}

func getSession(b *browser) *session {
	b.t.Helper()
	return eval[*session](b, `fetch("/api/auth/session").then((r) => r.json())`)
}

// signedInAs checks the page's client and the session endpoint agree that
// email is signed in, and returns the session.
func signedInAs(b *browser, email string) *session {
	b.t.Helper()
	waitStatus(b, "authenticated")
	s := eval[*session](b, `window.authbff.getSession()`)
	require.NotNil(b.t, s, "getSession()")
	require.Equal(b.t, email, s.User.Email)
	return s
}

func signedOut(b *browser) {
	b.t.Helper()
	require.Nil(b.t, getSession(b), "GET /api/auth/session is null")
}

func js(v any) string {
	out, _ := json.Marshal(v)
	return string(out)
}

// runScenario is everything a browser user does, in one browser, against
// authbff behind the front origin f with provider p; user (with two
// organizations) signs in four times.
func runScenario(t *testing.T, f *front, up *upstream, p idp, user, email string, browserOpts ...chromedp.ExecAllocatorOption) {
	b := newBrowser(t, browserOpts...)
	m := &timings{t: t}
	defer m.print()
	app := f.Origin + "/app"
	q := url.QueryEscape

	// 1. The built-in sign-in page auto-submits to the IdP (form-action
	// allows the authorization endpoint's origin), and the callback lands
	// on the callbackUrl, signed in.
	_, d := b.open(f.Origin+"/api/auth/signin?callbackUrl="+q("/app?via=page"), p.at)
	m.add("sign-in page → IdP login page (auto-submit)", d)
	b.check("sign-in page (auto-submit)")
	_, d = p.login(b, user, exactly(app+"?via=page"))
	m.add("IdP login → back at /app?via=page", d)
	s := signedInAs(b, email)
	b.check("signed in through the page")

	// 2. A reload keeps the session.
	_, d = b.open(app+"?via=page", exactly(app+"?via=page"))
	m.add("reload", d)
	signedInAs(b, email)
	b.check("reload")

	// 3. Switch organization with useSession().update().
	require.Len(t, s.Organizations, 2, "%s has two organizations", user)
	require.NotNil(t, s.ActiveOrganization)
	var other organization
	for _, o := range s.Organizations {
		if o.Alias != s.ActiveOrganization.Alias {
			other = o
		}
	}
	key := other.ID
	if key == "" {
		key = other.Alias
	}
	start := time.Now()
	switched := eval[*session](b, `window.authbff.update({organizationId: `+js(key)+`})`)
	m.add("update({organizationId})", time.Since(start))
	require.NotNil(t, switched)
	require.Equal(t, other.Alias, switched.ActiveOrganization.Alias)
	require.Equal(t, other.Alias, getSession(b).ActiveOrganization.Alias, "the server agrees")
	b.check("switch organization")

	// 4. The proxy adds the bearer token and the tenant headers of the
	// active organization.
	start = time.Now()
	res := eval[struct {
		Status int    `json:"status"`
		Body   string `json:"body"`
	}](b, `window.authbff.proxy("/orders?page=1")`)
	m.add("GET /api/proxy/orders", time.Since(start))
	require.Equal(t, 200, res.Status, res.Body)
	h := up.last(t)
	require.True(t, strings.HasPrefix(h.Get("Authorization"), "Bearer "), "the backend gets the access token")
	require.Equal(t, other.TenantID, h.Get("X-Tenant-ID"))
	require.Equal(t, other.ID, h.Get("X-Organization-ID"), "Keycloak's organization id, or no header")
	require.NotContains(t, h.Get("Cookie"), "session-token", "authbff's cookies stay with authbff")
	b.check("proxy")

	// 5. Sign out through the built-in page: the session ends at authbff
	// and at the IdP, and the browser comes back to the callbackUrl.
	_, d = b.open(f.Origin+"/api/auth/signout?callbackUrl="+q("/goodbye?via=page"), prefix(f.Origin+"/api/auth/signout"))
	m.add("sign-out page", d)
	require.Equal(t, "Are you sure you want to sign out?", b.text("p"))
	require.Empty(t, b.text(".err"), "the question is not styled as an error")
	_, d = b.leave("sign-out button", `document.querySelector("button[type=submit]").click()`, exactly(f.Origin+"/goodbye?via=page"))
	m.add("sign-out button → IdP end-session → /goodbye?via=page", d)
	signedOut(b)
	b.check("sign-out page")

	// 6. The IdP session is over: signing in again through the page's
	// button (the sign-in page with an error does not auto-submit) shows
	// the IdP's login page.
	_, d = b.open(f.Origin+"/api/auth/signin?error=SessionRequired&callbackUrl="+q("/app?via=button"), prefix(f.Origin+"/api/auth/signin"))
	m.add("sign-in page with an error", d)
	require.Equal(t, "Please sign in to access this page.", b.text(".err"))
	require.Equal(t, "Sign in with "+p.name, b.text("button"))
	_, d = b.leave("sign-in button", `document.querySelector("button[type=submit]").click()`, p.at)
	m.add("sign-in button → IdP login page", d)
	b.check("sign-in button")
	_, d = p.login(b, user, exactly(app+"?via=button"))
	m.add("IdP login → back at /app?via=button", d)
	signedInAs(b, email)
	b.check("signed in through the button")

	// 7. signOut({callbackUrl}) of next-auth/react lands where the app asked.
	_, d = b.leave("signOut()", `window.authbff.signOut({callbackUrl: "/goodbye?x=1"})`, exactly(f.Origin+"/goodbye?x=1"))
	m.add(`signOut({callbackUrl: "/goodbye?x=1"}) → /goodbye?x=1`, d)
	signedOut(b)
	b.check("signOut({callbackUrl})")

	// 8. signIn("keycloak") of next-auth/react: the IdP shows its login
	// page again (signOut() ended its session too).
	_, d = b.open(app, exactly(app))
	m.add("open /app signed out", d)
	waitStatus(b, "unauthenticated")
	_, d = b.leave("signIn()", `window.authbff.signIn("keycloak", {callbackUrl: "/app?via=client"})`, p.at)
	m.add(`signIn("keycloak") → IdP login page`, d)
	_, d = p.login(b, user, exactly(app+"?via=client"))
	m.add("IdP login → back at /app?via=client", d)
	signedInAs(b, email)
	b.check(`signIn("keycloak")`)

	// 9. The error page: a readable message, no console error.
	for _, c := range []struct{ errType, status, message string }{
		{"Configuration", "500 (Internal Server Error)", "There is a problem with the server configuration"},
		{"AccessDenied", "403 (Forbidden)", "You do not have permission to sign in."},
		{"Verification", "403 (Forbidden)", "The sign-in link is no longer valid."},
		{"OAuthCallbackError", "", "The identity provider could not confirm your sign-in. Please try again."},
		{"Nonsense", "", "Something went wrong. Please try again."},
	} {
		page := f.Origin + "/api/auth/error?error=" + c.errType
		_, d = b.open(page, exactly(page))
		m.add("error page "+c.errType, d)
		require.Contains(t, b.text(".err"), c.message)
		require.Equal(t, f.Origin+"/", eval[string](b, `document.querySelector("a").href`), "a way back to the app")
		if c.status != "" {
			b.checkExcept("error page "+c.errType, page, c.status)
		} else {
			b.check("error page " + c.errType)
		}
	}
}
