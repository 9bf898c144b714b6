package application_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/application"
	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
	"github.com/authbff/authbff/test/fake"
)

// nextAuthSource is a NextAuthSource holding fixed data, streamed as the
// port says: users in id order, size at a time, each batch with its users'
// rows; rows of unknown users left out and their sessions counted.
type nextAuthSource struct{ data ports.NextAuthData }

func (s nextAuthSource) Stream(_ context.Context, _ time.Time, size int, fn func(ports.NextAuthData) error) (ports.NextAuthSummary, error) {
	users := slices.Clone(s.data.Users)
	slices.SortStableFunc(users, func(a, b ports.NextAuthUser) int { return strings.Compare(a.ID, b.ID) })
	users = slices.CompactFunc(users, func(a, b ports.NextAuthUser) bool { return a.ID == b.ID })
	known := map[string]bool{}
	for _, u := range users {
		known[u.ID] = true
	}
	var sum ports.NextAuthSummary
	sum.Orphans.Accounts = orphans(s.data.Accounts, known, func(a ports.NextAuthAccount) string { return a.UserID })
	sum.Orphans.Sessions = orphans(s.data.Sessions, known, func(x ports.NextAuthSession) string { return x.UserID })
	sum.Orphans.Roles = orphans(s.data.Roles, known, func(r ports.NextAuthRole) string { return r.UserID })
	sum.Orphans.Memberships = orphans(s.data.Memberships, known, func(m ports.NextAuthMembership) string { return m.UserID })
	for i := 0; i < len(users); i += size {
		batch := ports.NextAuthData{Users: users[i:min(i+size, len(users))]}
		in := map[string]bool{}
		for _, u := range batch.Users {
			in[u.ID] = true
		}
		batch.Accounts = ofUsers(s.data.Accounts, in, func(a ports.NextAuthAccount) string { return a.UserID })
		batch.Sessions = ofUsers(s.data.Sessions, in, func(x ports.NextAuthSession) string { return x.UserID })
		batch.Roles = ofUsers(s.data.Roles, in, func(r ports.NextAuthRole) string { return r.UserID })
		batch.Memberships = ofUsers(s.data.Memberships, in, func(m ports.NextAuthMembership) string { return m.UserID })
		if err := fn(batch); err != nil {
			return sum, err
		}
	}
	return sum, nil
}

// ofUsers keeps the rows whose user is in.
func ofUsers[T any](rows []T, in map[string]bool, user func(T) string) []T {
	var out []T
	for _, r := range rows {
		if in[user(r)] {
			out = append(out, r)
		}
	}
	return out
}

// orphans counts the rows whose user is not known.
func orphans[T any](rows []T, known map[string]bool, user func(T) string) int64 {
	return int64(len(rows) - len(ofUsers(rows, known, user)))
}

// importTarget is an in-memory ImportTarget with the port's semantics
// (existing rows are skipped and not counted). failSessionsCall makes the
// n-th ImportSessions call fail, as a database dropping out mid-import.
type importTarget struct {
	users            map[string]ports.ImportUser
	sessions         map[domain.TokenHash]*domain.Session
	calls            int
	failSessionsCall int
}

func newImportTarget() *importTarget {
	return &importTarget{users: map[string]ports.ImportUser{}, sessions: map[domain.TokenHash]*domain.Session{}}
}

func (t *importTarget) Existing(context.Context) (ports.ImportCounts, error) {
	return ports.ImportCounts{Users: int64(len(t.users)), Sessions: int64(len(t.sessions))}, nil
}

func (t *importTarget) ImportUsers(_ context.Context, users []ports.ImportUser) (map[string]ports.ImportedUser, ports.ImportCounts, error) {
	out := map[string]ports.ImportedUser{}
	var n ports.ImportCounts
	for _, u := range users {
		if _, ok := t.users[u.User.ID]; !ok {
			t.users[u.User.ID] = u
			n.Users++
		}
		first := ""
		if len(u.Organizations) > 0 {
			first = u.Organizations[0].ID
		}
		out[u.SourceID] = ports.ImportedUser{ID: u.User.ID, FirstOrganizationID: first}
	}
	return out, n, nil
}

func (t *importTarget) ImportSessions(_ context.Context, sessions []*domain.Session) (int64, error) {
	t.calls++
	if t.calls == t.failSessionsCall {
		return 0, fmt.Errorf("%w: connection reset", domain.ErrUnavailable)
	}
	var n int64
	for _, s := range sessions {
		if _, ok := t.sessions[s.TokenHash()]; !ok {
			t.sessions[s.TokenHash()] = s
			n++
		}
	}
	return n, nil
}

var importNow = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

func importHandler(src ports.NextAuthSource, target ports.ImportTarget) *application.ImportNextAuthHandler {
	return application.NewImportNextAuthHandler(src, target, fake.TokenCipher{}, domain.DefaultSessionPolicy(),
		func() time.Time { return importNow }, discardLog())
}

func sourceWithSessions(n int) ports.NextAuthData {
	d := ports.NextAuthData{
		Users: []ports.NextAuthUser{{ID: "1", Name: "One", Email: "One@Example.com"}, {ID: "2", Name: "Two"}},
		Accounts: []ports.NextAuthAccount{
			{UserID: "1", Type: "oidc", Provider: "keycloak", ProviderAccountID: "sub-1", AccessToken: "at-1", RefreshToken: "rt-1",
				IDToken: "it-1", ExpiresAt: importNow.Add(5 * time.Minute), SessionState: "sid-1"},
			{UserID: "2", Type: "oidc", Provider: "github", ProviderAccountID: "gh-2", AccessToken: "gh-token"},
		},
		Memberships: []ports.NextAuthMembership{
			{UserID: "1", OrganizationID: "org-z", Alias: "zeta"}, {UserID: "1", OrganizationID: "org-a", Alias: "alpha"},
		},
	}
	for i := 0; i < n; i++ {
		d.Sessions = append(d.Sessions, ports.NextAuthSession{Token: fmt.Sprintf("%08d-0000-4000-8000-000000000000", i),
			UserID: []string{"1", "2"}[i%2], Expires: importNow.Add(30 * 24 * time.Hour)})
	}
	return d
}

// An import that fails half-way leaves whole batches; a rerun is refused
// without Merge, completes the import with it, and a further run adds nothing.
func TestImportNextAuthInterruptedIsCompletedByARerun(t *testing.T) {
	src := nextAuthSource{sourceWithSessions(25)}
	target := newImportTarget()
	target.failSessionsCall = 2
	_, err := importHandler(src, target).Handle(context.Background(), application.ImportNextAuth{BatchSize: 10})
	require.ErrorIs(t, err, domain.ErrUnavailable)
	require.Len(t, target.sessions, 10, "the first batch stays, the failed one left nothing")
	require.Len(t, target.users, 2)

	_, err = importHandler(src, target).Handle(context.Background(), application.ImportNextAuth{BatchSize: 10})
	require.ErrorIs(t, err, application.ErrTargetNotEmpty)

	res, err := importHandler(src, target).Handle(context.Background(), application.ImportNextAuth{BatchSize: 10, Merge: true})
	require.NoError(t, err)
	require.EqualValues(t, 15, res.Written.Sessions)
	require.Zero(t, res.Written.Users)
	require.Len(t, target.sessions, 25)

	res, err = importHandler(src, target).Handle(context.Background(), application.ImportNextAuth{BatchSize: 10, Merge: true})
	require.NoError(t, err)
	require.Equal(t, ports.ImportCounts{}, res.Written)
}

func TestImportNextAuthDryRunWritesNothing(t *testing.T) {
	target := newImportTarget()
	res, err := importHandler(nextAuthSource{sourceWithSessions(3)}, target).Handle(context.Background(),
		application.ImportNextAuth{DryRun: true})
	require.NoError(t, err)
	require.EqualValues(t, 3, res.Source.Sessions)
	require.EqualValues(t, 2, res.Source.Users)
	require.Zero(t, target.calls)
	require.Empty(t, target.users)
}

// An imported session keeps the browser's cookie (its hash), gets the
// target's lifetimes from the import on, never outlives the source's expiry,
// carries the user's Keycloak tokens sealed and Keycloak's sid, and is marked.
func TestImportNextAuthSessionShape(t *testing.T) {
	d := sourceWithSessions(0)
	d.Sessions = []ports.NextAuthSession{
		{Token: "11111111-2222-4333-8444-555555555555", UserID: "1", Expires: importNow.Add(30 * 24 * time.Hour)},
		{Token: "66666666-2222-4333-8444-555555555555", UserID: "1", Expires: importNow.Add(time.Hour)},
		{Token: "77777777-2222-4333-8444-555555555555", UserID: "2", Expires: importNow.Add(time.Hour)},
		{Token: "88888888-2222-4333-8444-555555555555", UserID: "no-such-user", Expires: importNow.Add(time.Hour)},
		{Token: "short", UserID: "1", Expires: importNow.Add(time.Hour)},
	}
	target := newImportTarget()
	res, err := importHandler(nextAuthSource{d}, target).Handle(context.Background(), application.ImportNextAuth{})
	require.NoError(t, err)
	require.EqualValues(t, 3, res.Written.Sessions)
	require.EqualValues(t, 2, res.SkippedSessions, "an orphan and a token authbff's cookie check refuses")

	policy := domain.DefaultSessionPolicy()
	long := target.sessions[domain.SessionToken("11111111-2222-4333-8444-555555555555").Hash()]
	require.NotNil(t, long)
	require.Equal(t, importNow.Add(policy.MaxAge), long.Expires())
	require.Equal(t, importNow.Add(policy.AbsoluteLifetime), long.AbsoluteExpires())
	require.Equal(t, domain.ImportedUserAgent, long.UserAgent())
	require.Equal(t, "sid-1", long.ProviderSessionID())
	require.Equal(t, "keycloak", long.Provider())
	require.Equal(t, "sealed:at-1", string(long.Tokens().AccessToken))
	require.Equal(t, "sealed:rt-1", string(long.Tokens().RefreshToken))
	require.Equal(t, importNow.Add(5*time.Minute), long.Tokens().AccessTokenExpiresAt)
	require.Equal(t, "org-a", long.ActiveOrganizationID(), "the first organization by alias")
	require.Equal(t, domain.DerivedID("user", "1"), long.UserID(), "a non-UUID source id becomes a stable UUID")

	short := target.sessions[domain.SessionToken("66666666-2222-4333-8444-555555555555").Hash()]
	require.Equal(t, importNow.Add(time.Hour), short.Expires(), "never outlives the source's expiry")

	other := target.sessions[domain.SessionToken("77777777-2222-4333-8444-555555555555").Hash()]
	require.Nil(t, other.Tokens().AccessToken, "only the keycloak account's tokens go to sessions")
	require.Equal(t, "one@example.com", target.users[domain.DerivedID("user", "1")].User.Email)
}

func TestImportNextAuthRefusesABadRoleSource(t *testing.T) {
	_, err := importHandler(nextAuthSource{}, newImportTarget()).Handle(context.Background(),
		application.ImportNextAuth{RoleSource: "client:"})
	var ve *domain.ValidationError
	require.True(t, errors.As(err, &ve), err)
}
