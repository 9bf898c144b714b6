package main

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/authbff/authbff/adapters/store"
	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/test/testenv"
)

func TestLiveTokenHasTheShapeOfAnIssuedToken(t *testing.T) {
	tok := liveToken(42)
	if len(tok) != 43 {
		t.Fatalf("len = %d, want 43", len(tok))
	}
	if _, err := domain.ParseSessionToken(tok); err != nil {
		t.Fatal(err)
	}
	if liveToken(42) != tok || liveToken(43) == tok {
		t.Fatal("tokens must be deterministic and distinct")
	}
}

func TestPercentileIsNearestRank(t *testing.T) {
	lats := make([]time.Duration, 100)
	for i := range lats {
		lats[i] = time.Duration(i+1) * time.Millisecond
	}
	for q, want := range map[float64]time.Duration{0.5: 50 * time.Millisecond, 0.99: 99 * time.Millisecond, 1: 100 * time.Millisecond} {
		if got := percentile(lats, q); got != want {
			t.Errorf("p%v = %v, want %v", q*100, got, want)
		}
	}
}

// TestSeedResolves seeds a fresh database and checks that the cookies the
// load generator builds resolve, with roles, organizations and the active
// organization, and that expired sessions are expired.
func TestSeedResolves(t *testing.T) {
	url := seededDatabase(t, 20)
	if err := seed(t.Context(), seedOptions{databaseURL: url, live: 20, expired: 5, tokenBytes: 3200}, io.Discard); err != nil {
		t.Fatal(err) // seeding twice is harmless
	}
	cfg, err := store.ParseDatabaseURL(url, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sessions := store.NewSessionStore(db)
	now := time.Now()
	for _, i := range []int{0, 7, 19} {
		v, err := sessions.Lookup(t.Context(), domain.SessionToken(liveToken(i)).Hash())
		if err != nil {
			t.Fatalf("live session %d: %v", i, err)
		}
		if !v.Session.IsActive(now) || v.Session.ActiveOrganizationID() != loadOrgID || len(v.Roles) != 3 || len(v.Organizations) != 2 {
			t.Fatalf("live session %d: active %t, org %q, %d roles, %d organizations", i, v.Session.IsActive(now),
				v.Session.ActiveOrganizationID(), len(v.Roles), len(v.Organizations))
		}
		if _, renew := domain.DefaultSessionPolicy().Renewal(v.Session.Expires(), v.Session.AbsoluteExpires(), now); renew {
			t.Fatalf("live session %d would be renewed: GET /session would write", i)
		}
	}
	v, err := sessions.Lookup(t.Context(), domain.SessionToken(deriveToken(expiredTokenPrefix, 3)).Hash())
	if err != nil || v.Session.IsActive(now) {
		t.Fatalf("expired session 3: %v, active %t", err, err == nil && v.Session.IsActive(now))
	}
	expired, total, err := countSessions(t.Context(), url)
	if err != nil || expired != 5 || total != 25 {
		t.Fatalf("count = %d expired of %d, %v; want 5 of 25", expired, total, err)
	}
}

// seededDatabase returns the URL of a fresh, migrated database on
// TEST_DATABASE_URL with live sessions 0..live-1 and 5 expired ones.
func seededDatabase(t testing.TB, live int) string {
	t.Helper()
	url := testenv.NewPostgresURL(t)
	cfg, err := store.ParseDatabaseURL(url, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	m, err := store.NewMigrator(db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Up(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := seed(context.Background(), seedOptions{databaseURL: url, live: live, expired: 5, tokenBytes: 3200}, io.Discard); err != nil {
		t.Fatal(err)
	}
	return url
}
