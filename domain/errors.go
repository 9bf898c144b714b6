package domain

import "errors"

// Sentinel errors. Adapters translate their own failures into these at the
// boundary; the HTTP adapter maps them to status codes in one place.
var (
	// ErrSessionNotFound means no session has the given token hash or id.
	ErrSessionNotFound = errors.New("session not found")
	// ErrSessionExpired means the session exists but its idle or absolute
	// lifetime has passed.
	ErrSessionExpired = errors.New("session expired")
	// ErrUserNotFound means no user has the given id or email.
	ErrUserNotFound = errors.New("user not found")
	// ErrLoginFlowNotFound means the login flow was never started, was already
	// consumed, or belongs to another browser.
	ErrLoginFlowNotFound = errors.New("login flow not found")
	// ErrLoginFlowExpired means the login flow outlived its time to live.
	ErrLoginFlowExpired = errors.New("login flow expired")
	// ErrVerificationTokenNotFound means no unexpired verification token
	// matches both the identifier and the token hash.
	ErrVerificationTokenNotFound = errors.New("verification token not found")
	// ErrNotMember means the user is not a member of the organization.
	ErrNotMember = errors.New("not a member of the organization")
	// ErrForbidden means the caller lacks the role the operation requires.
	ErrForbidden = errors.New("forbidden")
	// ErrConflict means a uniqueness rule was violated.
	ErrConflict = errors.New("conflict")
	// ErrUnavailable means a dependency (database, identity provider) could not
	// be reached; the operation may succeed later and nothing was lost.
	ErrUnavailable = errors.New("dependency unavailable")
)

// ValidationError reports an invalid value, naming the field at fault.
type ValidationError struct {
	Field  string
	Reason string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Reason }
