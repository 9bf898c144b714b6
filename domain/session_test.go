package domain_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/authbff/authbff/domain"
)

func asValidation(err error, target **domain.ValidationError) bool { return errors.As(err, target) }

func TestNewSessionStoresOnlyTheHash(t *testing.T) {
	s, token, err := domain.NewSession(domain.NewSessionParams{UserID: "u1"}, domain.DefaultSessionPolicy(), t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(token) != 43 {
		t.Fatalf("token length = %d, want 43 (32 bytes base64url)", len(token))
	}
	if string(s.TokenHash()) == string(token) || s.TokenHash() != token.Hash() {
		t.Fatalf("session must hold the token's SHA-256, not the token")
	}
	if len(s.TokenHash()) != 64 {
		t.Fatalf("hash length = %d, want 64 hex chars", len(s.TokenHash()))
	}
	rec := s.Record()
	if strings.Contains(string(rec.TokenHash), string(token)) {
		t.Fatal("record leaks the raw token")
	}
}

func TestNewSessionRequiresUser(t *testing.T) {
	_, _, err := domain.NewSession(domain.NewSessionParams{}, domain.DefaultSessionPolicy(), t0)
	var ve *domain.ValidationError
	if !errors.As(err, &ve) || ve.Field != "UserID" {
		t.Fatalf("err = %v, want ValidationError on UserID", err)
	}
}

func TestSessionTokensAreUnique(t *testing.T) {
	seen := map[domain.SessionToken]bool{}
	for i := 0; i < 1000; i++ {
		tok := domain.NewSessionToken()
		if seen[tok] {
			t.Fatalf("duplicate token after %d draws", i)
		}
		seen[tok] = true
	}
}

func TestSessionLifecycle(t *testing.T) {
	p := domain.DefaultSessionPolicy()
	s, token, _ := domain.NewSession(domain.NewSessionParams{UserID: "u1"}, p, t0)
	if !s.IsActive(t0.Add(7 * time.Hour)) {
		t.Fatal("session should be active 7h after creation")
	}
	if s.IsActive(t0.Add(8 * time.Hour)) {
		t.Fatal("session should be expired at its idle expiry")
	}
	if s.Touch(p, t0.Add(30*time.Minute)) {
		t.Fatal("touch within update age must not write")
	}
	if !s.Touch(p, t0.Add(2*time.Hour)) {
		t.Fatal("touch after update age must write")
	}
	if !s.IsActive(t0.Add(9 * time.Hour)) {
		t.Fatal("renewed session should be active 9h after creation")
	}
	newToken := s.RotateToken(t0.Add(3 * time.Hour))
	if newToken == token || s.TokenHash() != newToken.Hash() {
		t.Fatal("rotation must replace the token hash")
	}
	// Keep touching every hour: the absolute cap still ends the session.
	for h := 3; h < 30; h++ {
		s.Touch(p, t0.Add(time.Duration(h)*time.Hour))
	}
	if s.IsActive(t0.Add(24 * time.Hour)) {
		t.Fatal("absolute lifetime must end the session however active")
	}
}

func TestParseSessionToken(t *testing.T) {
	good := string(domain.NewSessionToken())
	for _, in := range []string{good, "3f0b3c6e-8a8c-4c7e-9d2a-0e6f1b2c3d4e"} {
		if _, err := domain.ParseSessionToken(in); err != nil {
			t.Errorf("ParseSessionToken(%q) = %v, want ok", in, err)
		}
	}
	for _, in := range []string{"", "short", strings.Repeat("a", 129), good[:40] + "%7C", good + " x"} {
		if _, err := domain.ParseSessionToken(in); !errors.Is(err, domain.ErrMalformedToken) {
			t.Errorf("ParseSessionToken(%q) = %v, want ErrMalformedToken", in, err)
		}
	}
}

func TestRoleValidate(t *testing.T) {
	for _, r := range []domain.Role{{"admin", "realm"}, {"x", "client:web_app"}, {"m", "organization"}} {
		if err := r.Validate(); err != nil {
			t.Errorf("%v: %v", r, err)
		}
	}
	for _, r := range []domain.Role{{"", "realm"}, {"x", "client:"}, {"x", "other"}} {
		if err := r.Validate(); err == nil {
			t.Errorf("%v: want error", r)
		}
	}
}
