package store_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/adapters/store"
	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
	"github.com/authbff/authbff/test/testenv"
)

// TestConcurrentSessionReadsShareStatementsAndKeepTheirAnswers: on
// PostgreSQL, session reads made at the same moment go to the database
// together (token_hash = ANY), the view reads and the full reads each in
// their own statements, and each reader still gets its own session
// and user, or "not found" for a token without a session, duplicates and
// revoked sessions included. Rounds of 64 simultaneous reads run until some
// were batched (on a machine fast enough never to queue, the test says so).
func TestConcurrentSessionReadsShareStatementsAndKeepTheirAnswers(t *testing.T) {
	testenv.RequirePostgres(t)
	t.Parallel()
	db := testenv.NewPostgres(t)
	ctx := t.Context()
	users, sessions := store.NewUserStore(db), store.NewSessionStore(db)

	type want struct {
		sessionID, userName string
		roles               int
	}
	tokens := map[domain.TokenHash]want{}
	var hashes []domain.TokenHash
	for u := range 4 {
		in := ports.IdentitySync{Provider: "keycloak", Subject: domain.NewID(), Name: fmt.Sprintf("User %d", u),
			Email: fmt.Sprintf("u%d@example.test", u), Now: time.Now()}
		for r := range u {
			in.Roles = append(in.Roles, domain.Role{Name: fmt.Sprintf("role-%d", r), Source: "realm"})
		}
		user, err := users.SyncIdentity(ctx, in)
		require.NoError(t, err)
		for range 10 {
			s, token, err := domain.NewSession(domain.NewSessionParams{UserID: user.ID, Provider: "keycloak"},
				domain.DefaultSessionPolicy(), time.Now())
			require.NoError(t, err)
			require.NoError(t, sessions.Create(ctx, s))
			tokens[token.Hash()] = want{s.ID(), in.Name, u}
			hashes = append(hashes, token.Hash())
		}
	}
	// A revoked session and tokens that never had one read as not found.
	revoked := hashes[len(hashes)-1]
	require.NoError(t, sessions.Delete(ctx, tokens[revoked].sessionID))
	delete(tokens, revoked)
	for i := range 8 {
		hashes = append(hashes, domain.SessionToken(fmt.Sprintf("no-such-token-%d", i)).Hash())
	}

	const readers = 64
	for round := 0; ; round++ {
		start := make(chan struct{})
		var wg sync.WaitGroup
		errs := make(chan error, readers)
		for i := range readers {
			hash := hashes[(i*7+round*13)%len(hashes)] // every hash, some twice in a round
			read := sessions.LookupView
			if i%2 == 1 {
				read = sessions.Lookup // the full read, with tokens (the token endpoint, the proxy)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				v, err := read(ctx, hash)
				w, exists := tokens[hash]
				switch {
				case !exists && err == nil:
					errs <- fmt.Errorf("%s: found session %s, want not found", hash, v.Session.ID())
				case !exists && !errors.Is(err, domain.ErrSessionNotFound):
					errs <- fmt.Errorf("%s: %v, want not found", hash, err)
				case exists && err != nil:
					errs <- fmt.Errorf("%s: %v", hash, err)
				case exists && (v.Session.ID() != w.sessionID || v.User.Name != w.userName || len(v.Roles) != w.roles):
					errs <- fmt.Errorf("%s: session %s of %q with %d roles, want %s of %q with %d", hash,
						v.Session.ID(), v.User.Name, len(v.Roles), w.sessionID, w.userName, w.roles)
				}
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if t.Failed() {
			return
		}
		statements, batched := db.SessionReadStat()
		if batched > 0 {
			t.Logf("%d rounds of %d reads: %d statements, %d reads batched", round+1, readers, statements, batched)
			return
		}
		require.Less(t, round, 200, "no read was ever batched in 200 rounds of %d simultaneous reads", readers)
	}
}
