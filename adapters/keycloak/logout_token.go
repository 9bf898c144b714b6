package keycloak

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
)

// backchannelLogoutEvent is the events member that marks a logout token.
const backchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

type logoutClaims struct {
	Events map[string]json.RawMessage `json:"events"`
	Nonce  *string                    `json:"nonce"`
	SID    string                     `json:"sid"`
	JTI    string                     `json:"jti"`
	IAT    *int64                     `json:"iat"`
	Exp    *int64                     `json:"exp"`
}

var _ ports.LogoutTokenVerifier = (*Provider)(nil)

// VerifyLogoutToken implements ports.LogoutTokenVerifier (OIDC Back-Channel
// Logout 1.0, §2.6): signature with the IdP's keys, iss, aud, iat/exp, the
// events claim, no nonce, sid or sub present, jti present. go-oidc has no
// logout-token API (go-oidc#211), so its verifier is used for signature, iss
// and aud, and the rest is checked here.
func (p *Provider) VerifyLogoutToken(ctx context.Context, raw string) (ports.LogoutClaims, error) {
	bad := func(format string, args ...any) (ports.LogoutClaims, error) {
		return ports.LogoutClaims{}, fmt.Errorf("%w: %s", ports.ErrInvalidLogoutToken, fmt.Sprintf(format, args...))
	}
	if raw == "" || len(raw) > maxTokenBytes {
		return bad("missing or oversized token")
	}
	// exp is checked below because an IdP may omit it (then iat decides).
	v := oidc.NewVerifier(p.cfg.Issuer, p.keys, &oidc.Config{
		ClientID: p.cfg.ClientID, SkipExpiryCheck: true, SupportedSigningAlgs: algNames(),
	})
	if typ, err := jwsType(raw); err != nil || (typ != "" && !strings.EqualFold(typ, "logout+jwt") && !strings.EqualFold(typ, "JWT")) {
		return bad("JOSE header typ %q is not logout+jwt", typ)
	}
	// Classify key problems first: go-oidc flattens the key set's error.
	if _, err := p.keys.VerifySignature(ctx, raw); err != nil {
		if errors.Is(err, domain.ErrUnavailable) {
			return ports.LogoutClaims{}, fmt.Errorf("verify logout token: %w", err)
		}
		return bad("signature: %v", err)
	}
	tok, err := v.Verify(ctx, raw)
	if err != nil {
		return bad("%v", err)
	}
	var c logoutClaims
	if err := tok.Claims(&c); err != nil {
		return bad("claims: %v", err)
	}
	if ev, ok := c.Events[backchannelLogoutEvent]; !ok || len(ev) == 0 || ev[0] != '{' {
		return bad("no back-channel logout event (an object)")
	}
	if c.Nonce != nil {
		return bad("nonce is forbidden in logout tokens")
	}
	if c.SID == "" && tok.Subject == "" {
		return bad("neither sid nor sub")
	}
	if c.JTI == "" {
		return bad("no jti")
	}
	if c.IAT == nil {
		return bad("no iat")
	}
	// The IdP sends a logout token as it issues it, so its iat is held to
	// ClockSkew both ways, as an ID token's is: that also bounds how long a
	// token without exp stays acceptable, and must be remembered against
	// replay.
	iat := time.Unix(*c.IAT, 0)
	var exp time.Time
	if c.Exp != nil {
		exp = time.Unix(*c.Exp, 0)
	}
	if err := checkTokenTimes(p.cfg.Now(), iat, exp, time.Time{}); err != nil {
		return bad("%v", err)
	}
	expires := iat.Add(ClockSkew)
	if !exp.IsZero() && exp.Add(ClockSkew).After(expires) {
		expires = exp.Add(ClockSkew)
	}
	return ports.LogoutClaims{Issuer: tok.Issuer, Subject: tok.Subject, SessionID: c.SID, JTI: c.JTI,
		IssuedAt: iat, Expires: expires}, nil
}

func algNames() []string {
	out := make([]string, 0, len(supportedAlgs))
	for _, a := range supportedAlgs {
		out = append(out, string(a))
	}
	return out
}

// jwsType reads the JOSE header's typ (an ID token must not pass as a logout
// token: Keycloak marks logout tokens "logout+jwt").
func jwsType(raw string) (string, error) {
	head, _, ok := strings.Cut(raw, ".")
	if !ok || len(head) > 4096 {
		return "", errors.New("not a JWS")
	}
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return "", err
	}
	var h struct {
		Typ string `json:"typ"`
	}
	if err := json.Unmarshal(b, &h); err != nil {
		return "", err
	}
	return h.Typ, nil
}
