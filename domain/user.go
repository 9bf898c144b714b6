package domain

import (
	"strings"
	"time"
)

// User is a person known to authbff. Users are created on first sign-in and
// their profile follows the identity provider's claims on every sign-in.
type User struct {
	ID            string
	Name          string
	Email         string // empty when the IdP sends none; unique when present
	EmailVerified *time.Time
	Image         string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Validate reports a user that must not be stored.
func (u User) Validate() error {
	if u.ID == "" {
		return &ValidationError{Field: "ID", Reason: "required"}
	}
	if u.Email != "" && (!strings.Contains(u.Email, "@") || strings.ContainsAny(u.Email, " ,;")) {
		return &ValidationError{Field: "Email", Reason: "not a single email address"}
	}
	return nil
}

// NormalizeEmail lower-cases and trims an email so lookups and the uniqueness
// rule do not depend on how the IdP spelled it.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}
