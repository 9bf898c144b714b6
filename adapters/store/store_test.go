package store_test

import (
	"testing"
	"time"

	"github.com/authbff/authbff/adapters/store"
	"github.com/authbff/authbff/test/contract"
	"github.com/authbff/authbff/test/testenv"
)

// The port contract suites, on both dialects. Every case gets its own
// freshly migrated database.

func TestUserStore(t *testing.T)              { onBothDialects(t, contract.UserStore) }
func TestSessionStore(t *testing.T)           { onBothDialects(t, contract.SessionStore) }
func TestSessionMaintenance(t *testing.T)     { onBothDialects(t, contract.SessionMaintenance) }
func TestLoginFlowStore(t *testing.T)         { onBothDialects(t, contract.LoginFlowStore) }
func TestVerificationTokenStore(t *testing.T) { onBothDialects(t, contract.VerificationTokenStore) }
func TestSessionRevoker(t *testing.T)         { onBothDialects(t, contract.SessionRevoker) }
func TestSessionView(t *testing.T)            { onBothDialects(t, contract.SessionView) }

// TestSessionStoreCached runs the session suites again with the session
// cache on: a cache must change nothing a caller can observe of its own
// writes.
func TestSessionStoreCached(t *testing.T) {
	t.Run(store.Postgres, func(t *testing.T) {
		t.Parallel()
		testenv.RequirePostgres(t)
		env := envOn(testenv.NewPostgresCached)
		contract.SessionView(t, env)
		contract.SessionStore(t, env)
		contract.SessionRevoker(t, env)
	})
	t.Run(store.SQLite, func(t *testing.T) {
		t.Parallel()
		env := envOn(testenv.NewSQLiteCached)
		contract.SessionView(t, env)
		contract.SessionStore(t, env)
		contract.SessionRevoker(t, env)
	})
}

// now is the store tests' fixed clock, on a whole microsecond.
var now = time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.UTC)

type suite func(t *testing.T, newEnv func(t *testing.T) contract.Env)

// onBothDialects runs run as subtests "postgres" and "sqlite". Without
// TEST_DATABASE_URL the postgres subtest skips (fails under CI=true).
func onBothDialects(t *testing.T, run suite) {
	t.Helper()
	t.Run(store.Postgres, func(t *testing.T) {
		t.Parallel()
		testenv.RequirePostgres(t)
		run(t, envOn(testenv.NewPostgres))
	})
	t.Run(store.SQLite, func(t *testing.T) {
		t.Parallel()
		run(t, envOn(testenv.NewSQLite))
	})
}

// envOn returns a constructor of an Env on a fresh database from newDB.
func envOn(newDB func(testing.TB) *store.DB) func(t *testing.T) contract.Env {
	return func(t *testing.T) contract.Env {
		t.Helper()
		return storesOn(newDB(t))
	}
}

func storesOn(db *store.DB) contract.Env {
	return contract.Env{
		Users:              store.NewUserStore(db),
		Sessions:           store.NewSessionStore(db),
		Maintenance:        store.NewSessionMaintenance(db),
		LoginFlows:         store.NewLoginFlowStore(db),
		VerificationTokens: store.NewVerificationTokenStore(db),
		Revoker:            store.NewSessionStore(db),
	}
}
