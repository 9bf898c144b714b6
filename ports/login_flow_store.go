package ports

import (
	"context"
	"errors"
	"time"

	"github.com/authbff/authbff/domain"
)

// ErrTooManyPendingLoginFlows is LoginFlowStore.Save's refusal at the cap.
var ErrTooManyPendingLoginFlows = errors.New("too many pending sign-ins")

// LoginFlowStore keeps started sign-ins until their callback arrives.
type LoginFlowStore interface {
	// Save stores a new flow, unless maxPending flows not yet expired at
	// f.CreatedAt are stored already: then ErrTooManyPendingLoginFlows. The
	// count and the insert are one atomic step, so concurrent sign-ins, in
	// one process or many, can never store more than maxPending
	// (maxPending <= 0: no cap). Having found the cap reached, it may keep
	// refusing for a moment without counting again, until it consumes a
	// flow itself. It returns domain.ErrConflict if the state is already in
	// use.
	Save(ctx context.Context, f domain.LoginFlow, maxPending int64) error
	// Consume atomically removes and returns the flow with this state if it
	// was started by the browser holding binding. A flow can be consumed once.
	// It returns domain.ErrLoginFlowNotFound if there is no such flow or the
	// binding differs (the flow is then left for its own browser), and
	// domain.ErrLoginFlowExpired if it is past its expiry at now (the flow is
	// removed).
	Consume(ctx context.Context, state string, binding domain.TokenHash, now time.Time) (domain.LoginFlow, error)
	// DeleteExpired removes at most limit flows expired at now and returns how
	// many it removed.
	DeleteExpired(ctx context.Context, now time.Time, limit int) (int64, error)
	// CountPending returns the number of flows not yet expired at now
	// (expired rows awaiting cleanup do not count). Save applies the cap
	// itself, in one step with the insert; this count is what tests check
	// it against.
	CountPending(ctx context.Context, now time.Time) (int64, error)
}
