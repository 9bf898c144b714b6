package store

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"

	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
)

type loginFlowRow struct {
	bun.BaseModel `bun:"table:login_flows,alias:lf"`

	State          string    `bun:"state,pk"`
	Nonce          string    `bun:"nonce,notnull"`
	PKCEVerifier   string    `bun:"pkce_verifier,notnull"`
	Provider       string    `bun:"provider,notnull"`
	Issuer         string    `bun:"issuer,notnull"`
	RedirectURI    string    `bun:"redirect_uri,notnull"`
	CallbackURL    string    `bun:"callback_url,notnull"`
	BrowserBinding string    `bun:"browser_binding,notnull"`
	Expires        time.Time `bun:"expires,notnull"`
	CreatedAt      time.Time `bun:"created_at,notnull"`
	UpdatedAt      time.Time `bun:"updated_at,notnull"`
}

// LoginFlowStore implements ports.LoginFlowStore.
type LoginFlowStore struct {
	db *DB
	// capTurn lets one capped save at a time wait for the cap's lock.
	capTurn chan struct{}
	// fullAt is when a count last found the cap reached (Unix ns; 0: not
	// known to be full). For fullFor after it, saves are refused without
	// counting (a place another process freed meanwhile waits that long): at the cap every count reads maxPending index entries
	// (about 13 ms of PostgreSQL's time at 100 000), so a flood would
	// otherwise cost the database one such count per request.
	fullAt  atomic.Int64
	fullFor time.Duration
}

// NewLoginFlowStore returns a LoginFlowStore on db.
func NewLoginFlowStore(db *DB) *LoginFlowStore {
	return &LoginFlowStore{db: db, capTurn: make(chan struct{}, 1), fullFor: time.Second}
}

var _ ports.LoginFlowStore = (*LoginFlowStore)(nil)

// Save implements ports.LoginFlowStore. With a cap, the count and the insert
// run in one transaction that sign-in starts take one at a time, on every
// replica: on PostgreSQL under a transaction-scoped advisory lock (read
// committed, so the count sees the previous holder's insert), on SQLite
// under the write lock every transaction takes at BEGIN
// (_txlock=immediate). Without the lock, sign-ins started together all
// counted below the cap and all inserted.
//
// At the cap a flood must not queue for that lock: a first count without
// it refuses at once, and within a process one save at a time waits for
// the lock, in Go, holding no connection. Each count stops at the cap
// (LIMIT), reading at most maxPending entries of the expires index; once a
// count found the cap reached, saves are refused without counting for a
// second (fullAt), or until this process consumes a flow.
func (s *LoginFlowStore) Save(ctx context.Context, f domain.LoginFlow, maxPending int64) error {
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	row := loginFlowRow{State: f.State, Nonce: f.Nonce, PKCEVerifier: f.PKCEVerifier, Provider: f.Provider,
		Issuer: f.Issuer, RedirectURI: f.RedirectURI, CallbackURL: f.CallbackURL, BrowserBinding: string(f.BrowserBinding),
		Expires: f.Expires.UTC(), CreatedAt: f.CreatedAt.UTC(), UpdatedAt: f.CreatedAt.UTC()}
	if maxPending <= 0 {
		_, err := s.db.NewInsert().Model(&row).Exec(ctx)
		return mapError(err)
	}
	if at := s.fullAt.Load(); at != 0 && time.Since(time.Unix(0, at)) < s.fullFor {
		return ports.ErrTooManyPendingLoginFlows
	}
	if full, err := s.full(ctx, s.db.DB, f.CreatedAt, maxPending); err != nil || full {
		return err
	}
	select {
	case s.capTurn <- struct{}{}:
		defer func() { <-s.capTurn }()
	case <-ctx.Done():
		return fmt.Errorf("%w: %v", domain.ErrUnavailable, ctx.Err())
	}
	err := s.db.RunInTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted}, func(ctx context.Context, tx bun.Tx) error {
		if s.db.Dialect() == Postgres {
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", loginFlowCapLockKey); err != nil {
				return err
			}
		}
		if full, err := s.full(ctx, tx, f.CreatedAt, maxPending); err != nil || full {
			return err
		}
		_, err := tx.NewInsert().Model(&row).Exec(ctx)
		return err
	})
	if errors.Is(err, ports.ErrTooManyPendingLoginFlows) {
		return err
	}
	return mapError(err)
}

// full reports ports.ErrTooManyPendingLoginFlows when maxPending flows are
// pending at now, counting no further than that.
func (s *LoginFlowStore) full(ctx context.Context, db bun.IDB, now time.Time, maxPending int64) (bool, error) {
	var pending int64
	err := db.NewRaw("SELECT count(*) FROM (SELECT 1 FROM login_flows WHERE expires > ? LIMIT ?) AS pending",
		now.UTC(), maxPending).Scan(ctx, &pending)
	if err != nil {
		return false, mapError(err)
	}
	if pending >= maxPending {
		s.fullAt.Store(time.Now().UnixNano())
		return true, ports.ErrTooManyPendingLoginFlows
	}
	s.fullAt.Store(0)
	return false, nil
}

// loginFlowCapLockKey names the advisory lock capped saves take ("authlf").
const loginFlowCapLockKey = 0x617574686c66

// Consume implements ports.LoginFlowStore. The flow is removed with
// DELETE ... RETURNING in the same statement that checks the binding, so two
// concurrent callbacks with one state cannot both succeed.
func (s *LoginFlowStore) Consume(ctx context.Context, state string, binding domain.TokenHash, now time.Time) (domain.LoginFlow, error) {
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	var row loginFlowRow
	err := s.db.NewDelete().Model(&row).
		Where("state = ? AND browser_binding = ?", state, string(binding)).
		Returning("*").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.LoginFlow{}, domain.ErrLoginFlowNotFound
	}
	if err != nil {
		return domain.LoginFlow{}, mapError(err)
	}
	s.fullAt.Store(0) // a place is free again
	// Defence in depth: the WHERE clause already matched the binding.
	if subtle.ConstantTimeCompare([]byte(row.BrowserBinding), []byte(binding)) != 1 {
		return domain.LoginFlow{}, domain.ErrLoginFlowNotFound
	}
	f := domain.LoginFlow{State: row.State, Nonce: row.Nonce, PKCEVerifier: row.PKCEVerifier, Provider: row.Provider,
		Issuer: row.Issuer, RedirectURI: row.RedirectURI, CallbackURL: row.CallbackURL,
		BrowserBinding: domain.TokenHash(row.BrowserBinding), CreatedAt: row.CreatedAt.UTC(), Expires: row.Expires.UTC()}
	if f.Expired(now) {
		return domain.LoginFlow{}, domain.ErrLoginFlowExpired
	}
	return f, nil
}

// DeleteExpired implements ports.LoginFlowStore.
func (s *LoginFlowStore) DeleteExpired(ctx context.Context, now time.Time, limit int) (int64, error) {
	return deleteBatch(ctx, s.db, "login_flows", "state", "expires <= ?", "expires", limit, now.UTC())
}

// CountPending implements ports.LoginFlowStore (an index range scan on
// expires).
func (s *LoginFlowStore) CountPending(ctx context.Context, now time.Time) (int64, error) {
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	n, err := s.db.NewSelect().Model((*loginFlowRow)(nil)).Where("expires > ?", now.UTC()).Count(ctx)
	return int64(n), mapError(err)
}
