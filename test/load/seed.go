package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authbff/authbff/adapters/store"
	"github.com/authbff/authbff/adapters/tokencipher"
)

// The seeded user and organizations have fixed ids so seeding is idempotent
// and the load tool can find them again.
const (
	loadUserID = "6c6f6164-0000-4000-8000-000000000001"
	loadOrgID  = "6c6f6164-0000-4000-8000-0000000000a1"
	otherOrgID = "6c6f6164-0000-4000-8000-0000000000a2"
)

// seedChunk is how many sessions one INSERT ... SELECT generate_series adds.
const seedChunk = 50_000

type seedOptions struct {
	databaseURL string
	live        int
	expired     int
	tokenBytes  int
	// accessSecret, when set, gives every live session a real sealed
	// access token (valid 24 h) under this AUTH_SECRET, so /api/proxy can
	// be measured without refreshes.
	accessSecret string
}

func seedCmd(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	var o seedOptions
	fs.StringVar(&o.databaseURL, "database-url", os.Getenv("DATABASE_URL"), "PostgreSQL URL of a migrated authbff database")
	fs.IntVar(&o.live, "live", 100_000, "live sessions (token i = base64url(sha256(\"authbff-load-\" + i)))")
	fs.IntVar(&o.expired, "expired", 0, "expired sessions")
	fs.IntVar(&o.tokenBytes, "token-bytes", 3200,
		"sealed OAuth token bytes per session, split access/refresh/id 3:2:3 like real Keycloak tokens (0: none)")
	fs.StringVar(&o.accessSecret, "access-secret", "", "AUTH_SECRET to seal a usable access token for every live session (for the proxy)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.databaseURL == "" || o.live < 0 || o.expired < 0 || o.tokenBytes < 0 {
		return fmt.Errorf("seed: want -database-url and non-negative -live, -expired, -token-bytes")
	}
	return seed(ctx, o, out)
}

// seed inserts the fixtures with SQL only (generate_series), so a million
// rows take seconds, not a million round trips. It is idempotent.
func seed(ctx context.Context, o seedOptions, out io.Writer) error {
	conn, err := connect(ctx, o.databaseURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())

	start := time.Now()
	if err := seedFixtures(ctx, conn); err != nil {
		return err
	}
	blob := make([]byte, o.tokenBytes)
	_, _ = rand.Read(blob) // sealed tokens are AES-GCM output: incompressible
	now := time.Now().UTC().Truncate(time.Second)
	// Live: created in the last 10 minutes, so no request renews (writes) one
	// for the next 50 minutes (update age 1 h).
	liveTook, err := seedSessions(ctx, conn, liveTokenPrefix, o.live, now, 10*time.Minute, blob)
	if err != nil {
		return err
	}
	// Expired: created 9 h to 10 h ago, so the 8 h idle expiry has passed.
	expiredTook, err := seedSessions(ctx, conn, expiredTokenPrefix, o.expired, now.Add(-9*time.Hour), time.Hour, blob)
	if err != nil {
		return err
	}
	if o.accessSecret != "" {
		c, err := tokencipherFor(o.accessSecret)
		if err != nil {
			return err
		}
		sealed, err := c.Seal("load-access-token-" + strconv.FormatInt(now.Unix(), 10))
		if err != nil {
			return err
		}
		if _, err := conn.Exec(ctx, `UPDATE sessions SET access_token = $1, access_token_expires_at = now() + interval '24 hours'
			WHERE expires > now()`, sealed); err != nil {
			return fmt.Errorf("seal access tokens: %w", err)
		}
	}
	t := time.Now()
	if _, err := conn.Exec(ctx, "ANALYZE sessions"); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	analyzeTook := time.Since(t)
	fmt.Fprintf(out, "seeded %d live + %d expired sessions in %s (live %s, expired %s, analyze %s)\n",
		o.live, o.expired, time.Since(start).Round(time.Millisecond), liveTook.Round(time.Millisecond),
		expiredTook.Round(time.Millisecond), analyzeTook.Round(time.Millisecond))
	return nil
}

// seedFixtures inserts the user, organizations, memberships and roles.
func seedFixtures(ctx context.Context, conn *pgx.Conn) error {
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		for _, st := range fixtureStatements(loadUserID, loadOrgID, otherOrgID) {
			if _, err := tx.Exec(ctx, st.sql, st.args...); err != nil {
				return fmt.Errorf("seed user, organizations, roles (is the database migrated?): %w", err)
			}
		}
		return nil
	})
}

// seedSessions inserts sessions prefix0 .. prefix(n-1) in chunks, created at
// created minus up to spread (so expiries are spread like real traffic).
func seedSessions(ctx context.Context, conn *pgx.Conn, prefix string, n int, created time.Time,
	spread time.Duration, blob []byte) (time.Duration, error) {
	start := time.Now()
	at, rt := len(blob)*3/8, len(blob)/4
	for from := 0; from < n; from += seedChunk {
		to := min(from+seedChunk, n) - 1
		_, err := conn.Exec(ctx, seedSessionsSQL, prefix, from, to, loadUserID, loadOrgID, blob,
			created, at, rt, len(blob)-at-rt, int(spread/time.Second))
		if err != nil {
			return 0, fmt.Errorf("seed sessions %s%d..%d: %w", prefix, from, to, err)
		}
		if n > seedChunk {
			fmt.Fprintf(os.Stderr, "  %s: %d/%d\n", prefix, to+1, n)
		}
	}
	return time.Since(start), nil
}

// connect opens one connection; the URL may carry authbff's pool parameters
// (connection_limit, pool_timeout), which are stripped as authbff does.
func connect(ctx context.Context, databaseURL string) (*pgx.Conn, error) {
	cfg, err := store.ParseDatabaseURL(databaseURL, os.TempDir())
	if err != nil {
		return nil, err
	}
	if cfg.Dialect != store.Postgres {
		return nil, fmt.Errorf("the load tool needs PostgreSQL, got %s", cfg.Dialect)
	}
	conn, err := pgx.Connect(ctx, cfg.DSN)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	return conn, nil
}

// tokencipherFor is authbff's token cipher for one AUTH_SECRET.
func tokencipherFor(secret string) (*tokencipher.TokenCipher, error) {
	return tokencipher.NewTokenCipher(tokencipher.Secrets{[]byte(secret)})
}
