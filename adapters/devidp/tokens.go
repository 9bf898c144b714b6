package devidp

import (
	"context"
	"crypto/rand"
	"errors"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// accessToken records an issued access token by its jti, for userinfo,
// introspection and revocation.
type accessToken struct {
	id        string
	sessionID string
	expires   time.Time
}

// refreshToken is an opaque refresh token bound to a session.
type refreshToken struct {
	token     string
	sessionID string
	expires   time.Time
}

// refreshRequest is the op.RefreshTokenRequest of a live refresh token.
type refreshRequest struct {
	session session
}

var _ op.RefreshTokenRequest = (*refreshRequest)(nil)

func (r *refreshRequest) GetAMR() []string { return []string{"pwd"} }

func (r *refreshRequest) GetAudience() []string { return []string{r.session.clientID} }

func (r *refreshRequest) GetAuthTime() time.Time { return r.session.authTime }

func (r *refreshRequest) GetClientID() string { return r.session.clientID }

func (r *refreshRequest) GetScopes() []string { return slices.Clone(r.session.scopes) }

func (r *refreshRequest) GetSubject() string { return r.session.userID }

// SetCurrentScopes narrows the scopes of the refreshed tokens to a subset
// the client asked for on the refresh.
func (r *refreshRequest) SetCurrentScopes(scopes []string) { r.session.scopes = slices.Clone(scopes) }

// errReuse is Keycloak's answer to a refresh token used a second time.
var errReuse = oidc.ErrInvalidGrant().WithDescription("Maximum allowed refresh token reuse exceeded")

// errSessionNotActive is Keycloak's answer once the session has ended.
var errSessionNotActive = oidc.ErrInvalidGrant().WithDescription("Session not active")

// sessionForLocked returns the live session a token request belongs to,
// with the scopes of that request, and its user.
func (s *storage) sessionForLocked(request any) (session, DemoUser, error) {
	var id string
	var scopes []string
	switch r := request.(type) {
	case *authRequest:
		id, scopes = r.sessionID, r.scopes
	case *refreshRequest:
		id, scopes = r.session.id, r.session.scopes
	default:
		return session{}, DemoUser{}, oidc.ErrUnsupportedGrantType()
	}
	sess, ok := s.sessions[id]
	if !ok {
		return session{}, DemoUser{}, errSessionNotActive
	}
	u, ok := userByID(sess.userID)
	if !ok {
		return session{}, DemoUser{}, errSessionNotActive
	}
	out := *sess
	out.scopes = slices.Clone(scopes)
	return out, u, nil
}

// CreateAccessToken records a new access token for request.
func (s *storage) CreateAccessToken(_ context.Context, request op.TokenRequest) (string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked()
	sess, _, err := s.sessionForLocked(request)
	if err != nil {
		return "", time.Time{}, err
	}
	at := s.newAccessTokenLocked(sess.id)
	return at.id, at.expires, nil
}

// CreateAccessAndRefreshTokens records a new access token and issues a new
// refresh token. On a refresh (currentRefreshToken set) the current token is
// rotated out in the same step: it is never accepted again, and presenting
// it again ends the session, like Keycloak with revokeRefreshToken=true and
// refreshTokenMaxReuse=0.
func (s *storage) CreateAccessAndRefreshTokens(_ context.Context, request op.TokenRequest, currentRefreshToken string) (string, string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked()
	if currentRefreshToken != "" {
		if err := s.rotateLocked(currentRefreshToken); err != nil {
			return "", "", time.Time{}, err
		}
	}
	sess, _, err := s.sessionForLocked(request)
	if err != nil {
		return "", "", time.Time{}, err
	}
	at := s.newAccessTokenLocked(sess.id)
	rt := refreshToken{token: rand.Text(), sessionID: sess.id, expires: s.now().Add(RefreshTokenLifespan)}
	s.refreshTokens[rt.token] = rt
	s.sessions[sess.id].expires = rt.expires
	return at.id, rt.token, at.expires, nil
}

// rotateLocked retires a refresh token. It fails, and ends the session,
// when the token was already retired.
func (s *storage) rotateLocked(token string) error {
	rt, ok := s.refreshTokens[token]
	if !ok {
		if used, ok := s.usedRefreshTokens[token]; ok {
			s.endSessionLocked(used.sessionID)
			return errReuse
		}
		return oidc.ErrInvalidGrant().WithDescription("Invalid refresh token")
	}
	delete(s.refreshTokens, token)
	s.usedRefreshTokens[token] = rt
	return nil
}

func (s *storage) newAccessTokenLocked(sessionID string) accessToken {
	at := accessToken{id: newUUID(), sessionID: sessionID, expires: s.now().Add(AccessTokenLifespan)}
	s.accessTokens[at.id] = at
	return at
}

// TokenRequestByRefreshToken returns the request a live refresh token
// stands for. A retired token ends its session.
func (s *storage) TokenRequestByRefreshToken(_ context.Context, token string) (op.RefreshTokenRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked()
	rt, ok := s.refreshTokens[token]
	if !ok {
		if used, ok := s.usedRefreshTokens[token]; ok {
			s.endSessionLocked(used.sessionID)
			return nil, errReuse
		}
		return nil, errors.New("devidp: refresh token not found or expired")
	}
	sess, ok := s.sessions[rt.sessionID]
	if !ok {
		return nil, errSessionNotActive
	}
	out := *sess
	out.scopes = slices.Clone(sess.scopes)
	return &refreshRequest{session: out}, nil
}

// GetRefreshTokenInfo identifies a live refresh token for revocation.
func (s *storage) GetRefreshTokenInfo(_ context.Context, _ string, token string) (string, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rt, ok := s.refreshTokens[token]
	if !ok {
		return "", "", op.ErrInvalidRefreshToken
	}
	sess, ok := s.sessions[rt.sessionID]
	if !ok {
		return "", "", op.ErrInvalidRefreshToken
	}
	return sess.userID, rt.token, nil
}

// RevokeToken revokes an access token (by jti) or a refresh token. Revoking
// a refresh token ends its session, as in Keycloak. Unknown tokens are
// ignored, as RFC 7009 asks.
func (s *storage) RevokeToken(_ context.Context, tokenOrTokenID, _ string, clientID string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if at, ok := s.accessTokens[tokenOrTokenID]; ok {
		if sess, ok := s.sessions[at.sessionID]; ok && sess.clientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("token was not issued for this client")
		}
		delete(s.accessTokens, tokenOrTokenID)
		return nil
	}
	if rt, ok := s.refreshTokens[tokenOrTokenID]; ok {
		if sess, ok := s.sessions[rt.sessionID]; ok && sess.clientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("token was not issued for this client")
		}
		s.endSessionLocked(rt.sessionID)
	}
	return nil
}

// TerminateSession ends every session of the user at the client.
func (s *storage) TerminateSession(_ context.Context, userID, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, sess := range s.sessions {
		if sess.userID == userID && sess.clientID == clientID {
			s.endSessionLocked(id)
		}
	}
	return nil
}

// TerminateSessionFromRequest handles RP-initiated logout: it ends the
// session named by the `sid` of the id_token_hint (or, without one, every
// session of the hinted user) and returns where to send the browser.
func (s *storage) TerminateSessionFromRequest(ctx context.Context, req *op.EndSessionRequest) (string, error) {
	if req.IDTokenHintClaims != nil && req.IDTokenHintClaims.SessionID != "" {
		s.mu.Lock()
		if sess, ok := s.sessions[req.IDTokenHintClaims.SessionID]; ok && sess.userID == req.UserID {
			s.endSessionLocked(sess.id)
		}
		s.mu.Unlock()
		return req.RedirectURI, nil
	}
	if req.UserID != "" {
		if err := s.TerminateSession(ctx, req.UserID, req.ClientID); err != nil {
			return "", err
		}
	}
	return req.RedirectURI, nil
}

// endSessionLocked forgets a session with its refresh and access tokens.
func (s *storage) endSessionLocked(sessionID string) {
	delete(s.sessions, sessionID)
	for v, rt := range s.refreshTokens {
		if rt.sessionID == sessionID {
			delete(s.refreshTokens, v)
		}
	}
	for id, at := range s.accessTokens {
		if at.sessionID == sessionID {
			delete(s.accessTokens, id)
		}
	}
}

// refreshTokenInfo returns the expiry and session of a live refresh token,
// for the Keycloak fields of the token response.
func (s *storage) refreshTokenInfo(token string) (expires time.Time, sess session, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rt, ok := s.refreshTokens[token]
	if !ok {
		return time.Time{}, session{}, false
	}
	p, ok := s.sessions[rt.sessionID]
	if !ok {
		return time.Time{}, session{}, false
	}
	return rt.expires, *p, true
}
