package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/authbff/authbff/domain"
)

func TestDerivedIDIsStableAndAUUID(t *testing.T) {
	a, b := domain.DerivedID("user", "clx0alice"), domain.DerivedID("user", "clx0alice")
	if a != b {
		t.Fatalf("not stable: %s %s", a, b)
	}
	if a == domain.DerivedID("session", "clx0alice") {
		t.Fatal("kind is part of the id")
	}
	if len(a) != 36 || a[14] != '8' || a[8] != '-' || a[13] != '-' {
		t.Fatalf("not a version 8 UUID: %s", a)
	}
}

func TestNewImportedSession(t *testing.T) {
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	policy := domain.DefaultSessionPolicy()
	tok := domain.SessionToken("3f2b9c1e-8d4a-4b6f-9e2d-7a1c5b8e0f3d")
	s, err := domain.NewImportedSession(tok, domain.NewSessionParams{UserID: "u"}, now.Add(30*24*time.Hour), policy, now)
	if err != nil {
		t.Fatal(err)
	}
	if s.TokenHash() != tok.Hash() || s.ID() != domain.DerivedID("session", string(tok.Hash())) {
		t.Fatal("the session is keyed by the browser's token")
	}
	if !s.Expires().Equal(now.Add(policy.MaxAge)) || !s.AbsoluteExpires().Equal(now.Add(policy.AbsoluteLifetime)) {
		t.Fatalf("lifetimes %s %s", s.Expires(), s.AbsoluteExpires())
	}
	s, _ = domain.NewImportedSession(tok, domain.NewSessionParams{UserID: "u"}, now.Add(time.Minute), policy, now)
	if !s.Expires().Equal(now.Add(time.Minute)) {
		t.Fatalf("outlives the source: %s", s.Expires())
	}
	if _, err := domain.NewImportedSession("short", domain.NewSessionParams{UserID: "u"}, now.Add(time.Hour), policy, now); !errors.Is(err, domain.ErrMalformedToken) {
		t.Fatalf("a token the cookie check refuses: %v", err)
	}
}
