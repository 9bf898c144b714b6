package fake_test

import (
	"testing"

	"github.com/authbff/authbff/test/contract"
	"github.com/authbff/authbff/test/fake"
)

// newEnv wires a fresh set of fakes the way the store shares one database.
func newEnv(t *testing.T) contract.Env {
	t.Helper()
	users := fake.NewUserStore()
	sessions := fake.NewSessionStore(users)
	return contract.Env{
		Users:              users,
		Sessions:           sessions,
		Maintenance:        fake.NewSessionMaintenance(sessions),
		LoginFlows:         fake.NewLoginFlowStore(),
		VerificationTokens: fake.NewVerificationTokenStore(),
		Revoker:            sessions,
	}
}

func TestUserStore(t *testing.T)              { contract.UserStore(t, newEnv) }
func TestSessionStore(t *testing.T)           { contract.SessionStore(t, newEnv) }
func TestSessionMaintenance(t *testing.T)     { contract.SessionMaintenance(t, newEnv) }
func TestLoginFlowStore(t *testing.T)         { contract.LoginFlowStore(t, newEnv) }
func TestVerificationTokenStore(t *testing.T) { contract.VerificationTokenStore(t, newEnv) }
func TestSessionRevoker(t *testing.T)         { contract.SessionRevoker(t, newEnv) }
