package domain_test

import (
	"testing"
	"time"

	"github.com/authbff/authbff/domain"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func TestSessionPolicyValidate(t *testing.T) {
	cases := []struct {
		name   string
		policy domain.SessionPolicy
		field  string
	}{
		{"default is valid", domain.DefaultSessionPolicy(), ""},
		{"max age too short", domain.SessionPolicy{MaxAge: time.Second, UpdateAge: 0, AbsoluteLifetime: time.Hour}, "MaxAge"},
		{"update age negative", domain.SessionPolicy{MaxAge: time.Hour, UpdateAge: -1, AbsoluteLifetime: time.Hour}, "UpdateAge"},
		{"update age above max age", domain.SessionPolicy{MaxAge: time.Hour, UpdateAge: 2 * time.Hour, AbsoluteLifetime: 3 * time.Hour}, "UpdateAge"},
		{"absolute below max age", domain.SessionPolicy{MaxAge: 8 * time.Hour, UpdateAge: time.Hour, AbsoluteLifetime: time.Hour}, "AbsoluteLifetime"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.policy.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var ve *domain.ValidationError
			if !asValidation(err, &ve) || ve.Field != tc.field {
				t.Fatalf("Validate() = %v, want ValidationError on %s", err, tc.field)
			}
		})
	}
}

func TestSessionPolicyRenewal(t *testing.T) {
	p := domain.DefaultSessionPolicy() // 8h max, 1h update, 24h absolute
	created := t0
	expires, absolute := p.NewLifetime(created)
	if got, want := expires, t0.Add(8*time.Hour); !got.Equal(want) {
		t.Fatalf("expires = %v, want %v", got, want)
	}
	cases := []struct {
		name        string
		expires     time.Time
		now         time.Time
		wantRenew   bool
		wantExpires time.Time
	}{
		{"just created: no write", expires, t0.Add(time.Second), false, expires},
		{"59 minutes later: no write", expires, t0.Add(59 * time.Minute), false, expires},
		{"exactly one update age later: renew", expires, t0.Add(time.Hour), true, t0.Add(9 * time.Hour)},
		{"seven hours later: renew", expires, t0.Add(7 * time.Hour), true, t0.Add(15 * time.Hour)},
		{"near the absolute cap: clamp", t0.Add(20 * time.Hour), t0.Add(19 * time.Hour), true, absolute},
		{"at the absolute cap: nothing to gain", absolute, t0.Add(23 * time.Hour), false, absolute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, renew := p.Renewal(tc.expires, absolute, tc.now)
			if renew != tc.wantRenew || !got.Equal(tc.wantExpires) {
				t.Fatalf("Renewal() = %v, %v; want %v, %v", got, renew, tc.wantExpires, tc.wantRenew)
			}
		})
	}
}
