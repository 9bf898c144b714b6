package contract

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
)

// Env bundles the stores that share one database. Sessions reference users,
// and statistics read organizations, so the suites need them together.
type Env struct {
	Users              ports.UserStore
	Sessions           ports.SessionStore
	Maintenance        ports.SessionMaintenance
	LoginFlows         ports.LoginFlowStore
	VerificationTokens ports.VerificationTokenStore
	Revoker            ports.SessionRevoker
}

// All runs every suite in this package against newEnv.
func All(t *testing.T, newEnv func(t *testing.T) Env) {
	t.Helper()
	t.Run("port=UserStore", func(t *testing.T) { UserStore(t, newEnv) })
	t.Run("port=SessionStore", func(t *testing.T) { SessionStore(t, newEnv) })
	t.Run("port=SessionStore/view", func(t *testing.T) { SessionView(t, newEnv) })
	t.Run("port=SessionMaintenance", func(t *testing.T) { SessionMaintenance(t, newEnv) })
	t.Run("port=LoginFlowStore", func(t *testing.T) { LoginFlowStore(t, newEnv) })
	t.Run("port=VerificationTokenStore", func(t *testing.T) { VerificationTokenStore(t, newEnv) })
	t.Run("port=SessionRevoker", func(t *testing.T) { SessionRevoker(t, newEnv) })
}

// base is the suites' "now". It has nanoseconds on purpose: stores keep
// microseconds, and every comparison truncates both sides to microseconds.
var base = time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.UTC)

// now is base on a whole microsecond, for cases that test a boundary
// (expiry exactly at now) where sub-microsecond digits would blur it.
var now = base.Truncate(time.Microsecond)

// micro normalises a time the way the stores keep it.
func micro(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// normRecord makes two records comparable with require.Equal: times in UTC at
// microsecond precision, empty byte slices as nil.
func normRecord(r domain.SessionRecord) domain.SessionRecord {
	for _, p := range []*time.Time{&r.CreatedAt, &r.UpdatedAt, &r.LastSeenAt, &r.Expires, &r.AbsoluteExpires,
		&r.Tokens.AccessTokenExpiresAt, &r.Tokens.RefreshTokenExpiresAt} {
		*p = micro(*p)
	}
	for _, p := range []*[]byte{&r.Tokens.AccessToken, &r.Tokens.RefreshToken, &r.Tokens.IDToken} {
		if len(*p) == 0 {
			*p = nil
		}
	}
	return r
}

// normUser does for a user what normRecord does for a session.
func normUser(u domain.User) domain.User {
	u.CreatedAt, u.UpdatedAt = micro(u.CreatedAt), micro(u.UpdatedAt)
	if u.EmailVerified != nil {
		v := micro(*u.EmailVerified)
		u.EmailVerified = &v
	}
	return u
}

func requireSameSession(t *testing.T, got, want *domain.Session) {
	t.Helper()
	require.NotNil(t, got)
	require.Equal(t, normRecord(want.Record()), normRecord(got.Record()))
}

func requireSameUser(t *testing.T, got, want domain.User) {
	t.Helper()
	require.Equal(t, normUser(want), normUser(got))
}

// identity returns a sign-in of a new person: a fresh subject and a unique
// email. Tests adjust the fields they care about.
func identity(now time.Time) ports.IdentitySync {
	id := domain.NewID()
	return ports.IdentitySync{
		Provider: "keycloak",
		Subject:  id,
		Name:     "User " + id[:8],
		Email:    "user-" + id[:8] + "@example.com",
		Now:      now,
	}
}

// newUser stores a new user through SyncIdentity, as sign-in does.
func newUser(t *testing.T, env Env, adjust ...func(*ports.IdentitySync)) domain.User {
	t.Helper()
	in := identity(base)
	for _, f := range adjust {
		f(&in)
	}
	u, err := env.Users.SyncIdentity(t.Context(), in)
	require.NoError(t, err)
	require.NotEmpty(t, u.ID)
	return u
}

// newSession creates and stores a session of userID started at created under
// the default policy.
func newSession(t *testing.T, env Env, userID string, created time.Time, adjust ...func(*domain.SessionRecord)) (*domain.Session, domain.SessionToken) {
	t.Helper()
	s, token, err := domain.NewSession(domain.NewSessionParams{UserID: userID, Provider: "keycloak"},
		domain.DefaultSessionPolicy(), created)
	require.NoError(t, err)
	if len(adjust) > 0 {
		r := s.Record()
		for _, f := range adjust {
			f(&r)
		}
		s = domain.RehydrateSession(r)
	}
	require.NoError(t, env.Sessions.Create(t.Context(), s))
	return s, token
}

// sessionIDs returns the ids of sessions in order.
func sessionIDs(ss []*domain.Session) []string {
	ids := make([]string, 0, len(ss))
	for _, s := range ss {
		ids = append(ids, s.ID())
	}
	return ids
}
