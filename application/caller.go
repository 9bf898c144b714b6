package application

import "github.com/authbff/authbff/domain"

// AdminRole is the role that may see and end other users' sessions and read
// session statistics.
const AdminRole = "admin"

// callerKind says who a Caller is. Its zero value is no kind at all, so a
// Caller nobody built is refused.
type callerKind uint8

const (
	callerNone callerKind = iota
	callerUser
	callerOperator
)

// Caller is who asks for an admin operation. Every admin decision is made
// inside the use case from it, not in the driving adapter, so a route that
// forgets a check cannot fail open. Only UserCaller and OperatorCaller build
// one; the zero value, and a user caller without a signed-in user, are
// refused.
type Caller struct {
	kind callerKind
	info SessionInfo
}

// UserCaller is a signed-in user acting through their session: allowed what
// their roles allow.
func UserCaller(info SessionInfo) Caller { return Caller{kind: callerUser, info: info} }

// OperatorCaller is the operator: the CLI run by someone with the database
// credentials, and authbff's own scheduled jobs. It has every admin right.
func OperatorCaller() Caller { return Caller{kind: callerOperator} }

// RequireAdmin returns nil for the operator or a signed-in user with the
// admin role, and domain.ErrForbidden for anyone else: the zero Caller, an
// anonymous one (no user) and a plain user.
func (c Caller) RequireAdmin() error {
	switch c.kind {
	case callerOperator:
		return nil
	case callerUser:
		if c.info.User.ID != "" && c.info.HasRole(AdminRole) {
			return nil
		}
	}
	return domain.ErrForbidden
}

// sessionID is the caller's own session id, "" for the operator.
func (c Caller) sessionID() string {
	if c.kind != callerUser || c.info.Session == nil {
		return ""
	}
	return c.info.Session.ID()
}

// auditName names the caller in logs: the user id, or "cli" for the operator.
func (c Caller) auditName() string {
	if c.kind == callerOperator {
		return "cli"
	}
	return c.info.User.ID
}
