package ports

import (
	"context"
	"time"

	"github.com/authbff/authbff/domain"
)

// LoginFlowStore keeps started sign-ins until their callback arrives.
type LoginFlowStore interface {
	// Save stores a new flow. It returns domain.ErrConflict if the state is
	// already in use.
	Save(ctx context.Context, f domain.LoginFlow) error
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
	// CountPending returns the number of flows not yet expired at now, so
	// callers can cap how many anonymous sign-ins may be pending (expired
	// rows awaiting cleanup do not count).
	CountPending(ctx context.Context, now time.Time) (int64, error)
}
