package application

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
)

// ImportNextAuth is `authbff import nextauth`: take over a NextAuth/Auth.js
// database so the users' existing session cookies keep working after the
// switch.
type ImportNextAuth struct {
	// Provider is the accounts' provider id whose tokens go to the sessions
	// ("keycloak").
	Provider string
	// RoleSource is the source the imported roles get ("realm").
	RoleSource string
	// BatchSize is the users read and written at a time, and the rows per
	// write transaction.
	BatchSize int
	// DryRun reads and counts, and writes nothing.
	DryRun bool
	// Merge allows a target that already has users or sessions.
	Merge bool
}

// ImportNextAuthResult counts what was found in the source and what was
// written (a second run writes zeros).
type ImportNextAuthResult struct {
	Found   []string
	Source  ports.ImportCounts
	Written ports.ImportCounts
	// SkippedSessions are unexpired sessions that cannot be taken over: their
	// user is not in the users table, or their token is not one authbff's
	// cookie parser accepts.
	SkippedSessions int64
	Duration        time.Duration
}

// ErrTargetNotEmpty refuses an import into a database that is in use,
// unless the operator asked to merge.
var ErrTargetNotEmpty = errors.New("the target database already has users or sessions")

// ImportNextAuthHandler runs ImportNextAuth.
type ImportNextAuthHandler struct {
	source ports.NextAuthSource
	target ports.ImportTarget
	cipher ports.TokenCipher
	policy domain.SessionPolicy
	now    Clock
	log    *slog.Logger
}

// NewImportNextAuthHandler returns an ImportNextAuthHandler.
func NewImportNextAuthHandler(source ports.NextAuthSource, target ports.ImportTarget, cipher ports.TokenCipher,
	policy domain.SessionPolicy, now Clock, log *slog.Logger) *ImportNextAuthHandler {
	return &ImportNextAuthHandler{source: source, target: target, cipher: cipher, policy: policy, now: now, log: log}
}

// Handle reads the source from one snapshot, a batch of users at a time
// (BatchSize), and writes each batch before reading the next: its users
// (with accounts, roles, memberships), then their sessions, each write one
// transaction of at most BatchSize rows. Memory holds one batch, whatever
// the source's size. Every write is an idempotent insert, so a run that
// fails half-way leaves whole batches behind and a rerun with Merge
// completes it; nothing is ever half a user or half a session.
func (h *ImportNextAuthHandler) Handle(ctx context.Context, cmd ImportNextAuth) (ImportNextAuthResult, error) {
	start := time.Now()
	cmd, err := cmd.withDefaults()
	if err != nil {
		return ImportNextAuthResult{}, err
	}
	var res ImportNextAuthResult
	if !cmd.DryRun && !cmd.Merge {
		if err := h.requireEmptyTarget(ctx); err != nil {
			return res, err
		}
	}
	now := h.now()
	var failed error // a write's error, kept apart from the source's
	sum, err := h.source.Stream(ctx, now, cmd.BatchSize, func(batch ports.NextAuthData) error {
		users, err := h.buildUsers(batch, cmd)
		if err != nil {
			failed = err
			return err
		}
		res.Source.Users += int64(len(users))
		res.Source.Accounts += int64(len(batch.Accounts))
		res.Source.Roles += int64(len(batch.Roles))
		res.Source.Memberships += int64(len(batch.Memberships))
		res.Source.Sessions += int64(len(batch.Sessions))
		if cmd.DryRun {
			return nil
		}
		landed, err := h.importUsers(ctx, users, &res)
		if err == nil {
			err = h.importSessions(ctx, batch, landed, cmd, now, &res)
		}
		failed = err
		return err
	})
	// Rows of users the users table lacks were found but cannot be taken
	// over: counted as found, and their sessions as skipped.
	res.Found = sum.Found
	res.Source.Accounts += sum.Orphans.Accounts
	res.Source.Roles += sum.Orphans.Roles
	res.Source.Memberships += sum.Orphans.Memberships
	res.Source.Sessions += sum.Orphans.Sessions
	if !cmd.DryRun {
		res.SkippedSessions += sum.Orphans.Sessions
	}
	switch {
	case failed != nil:
		return res, failed
	case err != nil:
		return res, fmt.Errorf("import nextauth: source: %w", err)
	}
	res.Duration = time.Since(start)
	if !cmd.DryRun {
		h.log.InfoContext(ctx, "nextauth import done", "users", res.Written.Users, "sessions", res.Written.Sessions,
			"skipped_sessions", res.SkippedSessions, "duration", res.Duration.String())
	}
	return res, nil
}

// withDefaults fills the command's defaults and checks the role source.
func (cmd ImportNextAuth) withDefaults() (ImportNextAuth, error) {
	if cmd.Provider == "" {
		cmd.Provider = "keycloak"
	}
	if cmd.RoleSource == "" {
		cmd.RoleSource = domain.RoleSourceRealm
	}
	if err := (domain.Role{Name: "x", Source: cmd.RoleSource}).Validate(); err != nil {
		return cmd, fmt.Errorf("import nextauth: role source: %w", err)
	}
	if cmd.BatchSize <= 0 {
		cmd.BatchSize = 1000
	}
	return cmd, nil
}

// requireEmptyTarget refuses to import into a database that already has
// users or sessions unless the operator says --merge.
func (h *ImportNextAuthHandler) requireEmptyTarget(ctx context.Context) error {
	existing, err := h.target.Existing(ctx)
	if err != nil {
		return fmt.Errorf("import nextauth: target: %w", err)
	}
	if existing.Users > 0 || existing.Sessions > 0 {
		return fmt.Errorf("import nextauth: %w (%d users, %d sessions); use --merge to add to them, "+
			"also to complete an interrupted import", ErrTargetNotEmpty, existing.Users, existing.Sessions)
	}
	return nil
}

// importUsers writes one batch of users and returns where each source user
// landed.
func (h *ImportNextAuthHandler) importUsers(ctx context.Context, users []ports.ImportUser,
	res *ImportNextAuthResult) (map[string]ports.ImportedUser, error) {
	if len(users) == 0 {
		return nil, nil
	}
	landed, n, err := h.target.ImportUsers(ctx, users)
	if err != nil {
		return nil, fmt.Errorf("import nextauth: users %d–%d: %w", res.Source.Users-int64(len(users))+1, res.Source.Users, err)
	}
	res.Written.Users += n.Users
	res.Written.Accounts += n.Accounts
	res.Written.Roles += n.Roles
	res.Written.Memberships += n.Memberships
	res.Written.Organizations += n.Organizations
	return landed, nil
}

// importSessions turns a batch's unexpired sessions into authbff's, with
// their user's sealed tokens, and writes them BatchSize at a time.
func (h *ImportNextAuthHandler) importSessions(ctx context.Context, data ports.NextAuthData,
	landed map[string]ports.ImportedUser, cmd ImportNextAuth, now time.Time, res *ImportNextAuthResult) error {
	tokens, err := h.sealAccounts(data.Accounts, cmd.Provider)
	if err != nil {
		return err
	}
	batch := make([]*domain.Session, 0, cmd.BatchSize)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		n, err := h.target.ImportSessions(ctx, batch)
		if err != nil {
			return fmt.Errorf("import nextauth: sessions: %w", err)
		}
		res.Written.Sessions += n
		batch = batch[:0]
		return nil
	}
	for _, s := range data.Sessions {
		u, ok := landed[s.UserID]
		if !ok {
			res.SkippedSessions++
			continue
		}
		tok := tokens[s.UserID]
		sess, err := domain.NewImportedSession(domain.SessionToken(s.Token), domain.NewSessionParams{
			UserID: u.ID, ActiveOrganizationID: u.FirstOrganizationID, Provider: cmd.Provider,
			ProviderSessionID: tok.sid, Tokens: tok.sealed, UserAgent: domain.ImportedUserAgent,
		}, s.Expires, h.policy, now)
		if err != nil {
			res.SkippedSessions++
			continue
		}
		if batch = append(batch, sess); len(batch) == cmd.BatchSize {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// buildUsers groups the source rows by user. A user's id is kept when it is
// a UUID (authbff's id type) and derived from it otherwise, the same on every
// run.
func (h *ImportNextAuthHandler) buildUsers(data ports.NextAuthData, cmd ImportNextAuth) ([]ports.ImportUser, error) {
	idx := make(map[string]int, len(data.Users))
	users := make([]ports.ImportUser, 0, len(data.Users))
	for _, u := range data.Users {
		if _, dup := idx[u.ID]; dup {
			continue
		}
		id := strings.ToLower(u.ID)
		if !isUUID(id) {
			id = domain.DerivedID("user", u.ID)
		}
		du := domain.User{ID: id, Name: u.Name, Email: domain.NormalizeEmail(u.Email), EmailVerified: u.EmailVerified, Image: u.Image}
		if err := du.Validate(); err != nil {
			return nil, fmt.Errorf("import nextauth: users row with id %q: %w", u.ID, err)
		}
		idx[u.ID] = len(users)
		users = append(users, ports.ImportUser{SourceID: u.ID, User: du})
	}
	for _, a := range data.Accounts {
		i, ok := idx[a.UserID]
		if !ok {
			continue // an account without its user cannot be signed in with
		}
		typ := a.Type
		if typ == "" {
			typ = "oidc"
		}
		acc := domain.Account{ID: domain.DerivedID("account", a.Provider+"\x00"+a.ProviderAccountID),
			UserID: users[i].User.ID, Type: typ, Provider: a.Provider, ProviderAccountID: a.ProviderAccountID}
		if err := acc.Validate(); err != nil {
			return nil, fmt.Errorf("import nextauth: accounts row of user %q: %w", a.UserID, err)
		}
		users[i].Accounts = append(users[i].Accounts, acc)
	}
	for _, r := range data.Roles {
		i, ok := idx[r.UserID]
		if !ok || r.Role == "" {
			continue
		}
		users[i].Roles = append(users[i].Roles, domain.Role{Name: r.Role, Source: cmd.RoleSource})
	}
	for _, m := range data.Memberships {
		i, ok := idx[m.UserID]
		if !ok || m.OrganizationID == "" {
			continue
		}
		// The replaced app's organization ids are the ones it sent the
		// backend as X-Organization-ID, taken from Keycloak's claim: they
		// stay the external (Keycloak) id.
		o := domain.Organization{ID: m.OrganizationID, ExternalID: m.OrganizationID, Alias: m.Alias, Name: m.Name, TenantID: m.TenantID}
		if o.Alias == "" {
			o.Alias = o.ID
		}
		users[i].Organizations = append(users[i].Organizations, o)
	}
	for i := range users {
		sort.Slice(users[i].Organizations, func(a, b int) bool {
			return users[i].Organizations[a].Alias < users[i].Organizations[b].Alias
		})
	}
	return users, nil
}

type sealedAccount struct {
	sealed domain.SealedTokens
	sid    string
}

// sealAccounts encrypts each user's token set at provider once; every
// session of that user gets the same sealed values (Auth.js keeps one token
// set per account, not per session). When a user has several accounts at
// the provider, the one whose access token expires last wins.
func (h *ImportNextAuthHandler) sealAccounts(accounts []ports.NextAuthAccount, provider string) (map[string]sealedAccount, error) {
	best := make(map[string]ports.NextAuthAccount)
	for _, a := range accounts {
		if a.Provider != provider {
			continue
		}
		if cur, ok := best[a.UserID]; !ok || a.ExpiresAt.After(cur.ExpiresAt) {
			best[a.UserID] = a
		}
	}
	out := make(map[string]sealedAccount, len(best))
	for userID, a := range best {
		t := ports.TokenSet{AccessToken: a.AccessToken, RefreshToken: a.RefreshToken, IDToken: a.IDToken,
			AccessTokenExpiresAt: a.ExpiresAt, Scope: a.Scope}
		sealed, err := sealTokens(h.cipher, t)
		if err != nil {
			return nil, fmt.Errorf("import nextauth: sealing tokens: %w", err)
		}
		out[userID] = sealedAccount{sealed: sealed, sid: a.SessionState}
	}
	return out, nil
}

// isUUID reports the canonical 8-4-4-4-12 hex form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}
