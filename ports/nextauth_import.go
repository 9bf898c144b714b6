package ports

import (
	"context"
	"time"

	"github.com/authbff/authbff/domain"
)

// NextAuthData is a batch of what a NextAuth/Auth.js database holds that
// authbff takes over: some users, and every row of theirs. Ids are the
// source's, as text (Auth.js adapters use cuids, UUIDs or serial integers).
// Tokens are plaintext here: only the import use case sees them, and it
// seals them before anything is written.
type NextAuthData struct {
	Users       []NextAuthUser
	Accounts    []NextAuthAccount
	Sessions    []NextAuthSession // only those unexpired at the snapshot's now
	Roles       []NextAuthRole
	Memberships []NextAuthMembership
}

// NextAuthSummary is what a whole read of the source found besides its
// batches.
type NextAuthSummary struct {
	// Found describes the tables and columns the reader used (one line per
	// table), so an operator sees what introspection decided.
	Found []string
	// Orphans counts the rows whose user is not in the users table (the
	// sessions among them unexpired ones only): they are in no batch and
	// cannot be taken over, but they were found.
	Orphans NextAuthOrphans
}

// NextAuthOrphans counts rows of users the users table does not have.
type NextAuthOrphans struct {
	Accounts, Sessions, Roles, Memberships int64
}

// NextAuthUser is a row of the source's users table.
type NextAuthUser struct {
	ID            string
	Name          string
	Email         string
	EmailVerified *time.Time
	Image         string
}

// NextAuthAccount is a row of the source's accounts table: the link to a
// provider and the provider's last token set.
type NextAuthAccount struct {
	UserID            string
	Type              string
	Provider          string
	ProviderAccountID string
	AccessToken       string
	RefreshToken      string
	IDToken           string
	ExpiresAt         time.Time // zero when unknown
	Scope             string
	SessionState      string // Keycloak's `sid` when the app stored it
}

// NextAuthSession is an unexpired database session: Token is the value of the
// browser's session cookie.
type NextAuthSession struct {
	Token   string
	UserID  string
	Expires time.Time
}

// NextAuthRole is a role the replaced app kept for a user.
type NextAuthRole struct {
	UserID string
	Role   string
}

// NextAuthMembership is an organization membership the replaced app kept.
type NextAuthMembership struct {
	UserID         string
	OrganizationID string
	Alias          string // the organization id when the source has none
	Name           string
	TenantID       string
}

// NextAuthSource reads a NextAuth database, from one repeatable-read,
// read-only snapshot, a batch of users at a time: an import holds one batch,
// however large the database.
type NextAuthSource interface {
	// Stream calls fn with the users in batches of at most size, each user
	// once, each batch with every row of its users: accounts, roles,
	// memberships and the sessions whose expiry is after now. Rows whose
	// user is not in the users table are in no batch. An error from fn ends
	// the read and is returned. A missing table or column is an error naming
	// it.
	Stream(ctx context.Context, now time.Time, size int, fn func(NextAuthData) error) (NextAuthSummary, error)
}

// ImportUser is one user to import with everything hanging off it. User.ID
// is the id to use when the target does not know the person yet.
type ImportUser struct {
	SourceID      string
	User          domain.User
	Accounts      []domain.Account
	Roles         []domain.Role
	Organizations []domain.Organization
}

// ImportedUser is where an ImportUser landed in the target.
type ImportedUser struct {
	ID string
	// FirstOrganizationID is the id of the user's first organization by
	// alias (the active organization of a new session), or "".
	FirstOrganizationID string
}

// ImportCounts are rows written (or, for Target counts, present).
type ImportCounts struct {
	Users, Accounts, Roles, Memberships, Organizations, Sessions int64
}

// ImportTarget writes imported data into authbff's database. Every method
// is one transaction and idempotent: rows that already exist are kept as they
// are and not counted, so an interrupted import is completed by running it
// again.
type ImportTarget interface {
	// Existing counts the users and sessions already in the target.
	Existing(ctx context.Context) (ImportCounts, error)
	// ImportUsers writes users with their accounts, roles and memberships.
	// A user the target already knows — by an account (provider, provider
	// account id), else by email — keeps its id and profile. It returns
	// where each SourceID landed and the rows it inserted.
	ImportUsers(ctx context.Context, users []ImportUser) (map[string]ImportedUser, ImportCounts, error)
	// ImportSessions inserts sessions whose token hash is not taken yet and
	// returns how many it inserted.
	ImportSessions(ctx context.Context, sessions []*domain.Session) (int64, error)
}
