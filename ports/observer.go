package ports

// Observer receives the application's countable events, for metrics. Calls
// must be cheap and never fail; an implementation must be safe for
// concurrent use.
type Observer interface {
	// SignIn records a completed sign-in attempt: "success" or a reason.
	SignIn(result string)
	// Refresh records a token refresh: "success", "rejected" or "unavailable".
	Refresh(result string)
	// SessionsRevoked records n sessions ended before expiry (reason:
	// "signout", "user", "admin", "backchannel", "refresh_rejected").
	SessionsRevoked(reason string, n int64)
	// SessionsExpired records n expired sessions removed by cleanup.
	SessionsExpired(n int64)
}

// NopObserver discards every event.
type NopObserver struct{}

// SignIn implements Observer.
func (NopObserver) SignIn(string) {}

// Refresh implements Observer.
func (NopObserver) Refresh(string) {}

// SessionsRevoked implements Observer.
func (NopObserver) SessionsRevoked(string, int64) {}

// SessionsExpired implements Observer.
func (NopObserver) SessionsExpired(int64) {}
