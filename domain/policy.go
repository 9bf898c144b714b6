package domain

import (
	"fmt"
	"time"
)

// SessionPolicy holds the lifetimes of a session. Defaults follow the system
// authbff replaces: 8 h idle lifetime (Auth.js maxAge) renewed at most once an
// hour (updateAge), plus an absolute cap that no amount of activity extends.
type SessionPolicy struct {
	// MaxAge is the idle lifetime: a session unused for this long expires.
	MaxAge time.Duration
	// UpdateAge throttles sliding renewal: the stored expiry is pushed forward
	// at most once per UpdateAge, so most requests do no write at all.
	UpdateAge time.Duration
	// AbsoluteLifetime caps a session's life from its creation.
	AbsoluteLifetime time.Duration
}

// DefaultSessionPolicy returns 8 h max age, 1 h update age, 24 h absolute.
func DefaultSessionPolicy() SessionPolicy {
	return SessionPolicy{MaxAge: 8 * time.Hour, UpdateAge: time.Hour, AbsoluteLifetime: 24 * time.Hour}
}

// Validate reports the first inconsistent lifetime.
func (p SessionPolicy) Validate() error {
	switch {
	case p.MaxAge < time.Minute:
		return &ValidationError{Field: "MaxAge", Reason: fmt.Sprintf("must be at least 1m, got %s", p.MaxAge)}
	case p.UpdateAge < 0:
		return &ValidationError{Field: "UpdateAge", Reason: "must not be negative"}
	case p.UpdateAge > p.MaxAge:
		return &ValidationError{Field: "UpdateAge", Reason: fmt.Sprintf("must not exceed MaxAge (%s), got %s", p.MaxAge, p.UpdateAge)}
	case p.AbsoluteLifetime < p.MaxAge:
		return &ValidationError{Field: "AbsoluteLifetime", Reason: fmt.Sprintf("must be at least MaxAge (%s), got %s", p.MaxAge, p.AbsoluteLifetime)}
	}
	return nil
}

// NewLifetime returns the idle and absolute expiry of a session created at now.
func (p SessionPolicy) NewLifetime(now time.Time) (expires, absoluteExpires time.Time) {
	absoluteExpires = now.Add(p.AbsoluteLifetime)
	return minTime(now.Add(p.MaxAge), absoluteExpires), absoluteExpires
}

// Renewal decides sliding renewal for a session seen at now. It returns the
// new idle expiry and whether it must be written. The rule is Auth.js's:
// renew when expires - MaxAge + UpdateAge <= now, i.e. when at least UpdateAge
// has passed since the last renewal. The new expiry never passes the absolute
// expiry.
func (p SessionPolicy) Renewal(expires, absoluteExpires, now time.Time) (time.Time, bool) {
	if expires.Add(-p.MaxAge).Add(p.UpdateAge).After(now) {
		return expires, false
	}
	next := minTime(now.Add(p.MaxAge), absoluteExpires)
	if !next.After(expires) {
		return expires, false
	}
	return next, true
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
