package devidp

import (
	"context"
	"errors"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// GetPrivateClaimsFromRequest returns the Keycloak claims of an access
// token: the identity claims plus typ, azp, sid, acr, auth_time and scope.
func (s *storage) GetPrivateClaimsFromRequest(_ context.Context, request op.TokenRequest, _ []string) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, u, err := s.sessionForLocked(request)
	if err != nil {
		return nil, err
	}
	return accessTokenClaims(u, sess), nil
}

// GetPrivateClaimsFromScopes is the library's fallback for requests that
// carry no session; the provider issues no such tokens, so it adds nothing.
func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// SetUserinfoFromRequest fills the ID token's claims: the profile and email
// claims, roles, organizations and the session's `sid`.
func (s *storage) SetUserinfoFromRequest(_ context.Context, userinfo *oidc.UserInfo, request op.IDTokenRequest, _ []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, u, err := s.sessionForLocked(request)
	if err != nil {
		return err
	}
	setUserInfo(userinfo, u, idTokenClaims(u, sess))
	return nil
}

// SetUserinfoFromScopes is deprecated in the library and left empty;
// SetUserinfoFromRequest does the work.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromToken answers the userinfo endpoint for a live access
// token. A token whose session has ended is refused.
func (s *storage) SetUserinfoFromToken(_ context.Context, userinfo *oidc.UserInfo, tokenID, subject, _ string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, u, err := s.tokenSessionLocked(tokenID, subject)
	if err != nil {
		return err
	}
	setUserInfo(userinfo, u, identityClaims(u, sess.clientID, sess.scopes))
	return nil
}

// SetIntrospectionFromToken answers the introspection endpoint. A token
// that is unknown or whose session has ended is reported inactive.
func (s *storage) SetIntrospectionFromToken(_ context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, u, err := s.tokenSessionLocked(tokenID, subject)
	if err != nil || sess.clientID != clientID {
		resp.Active = false
		return nil
	}
	info := new(oidc.UserInfo)
	setUserInfo(info, u, accessTokenClaims(u, sess))
	resp.SetUserInfo(info)
	resp.Active = true
	resp.Subject = u.ID
	resp.ClientID = sess.clientID
	resp.Username = u.Username
	resp.Scope = oidc.SpaceDelimitedArray(sess.scopes)
	resp.Expiration = oidc.FromTime(s.accessTokens[tokenID].expires)
	resp.JWTID = tokenID
	return nil
}

func (s *storage) tokenSessionLocked(tokenID, subject string) (session, DemoUser, error) {
	at, ok := s.accessTokens[tokenID]
	if !ok || s.now().After(at.expires) {
		return session{}, DemoUser{}, errors.New("devidp: access token not active")
	}
	sess, ok := s.sessions[at.sessionID]
	if !ok || sess.userID != subject {
		return session{}, DemoUser{}, errors.New("devidp: session not active")
	}
	u, ok := userByID(sess.userID)
	if !ok {
		return session{}, DemoUser{}, errors.New("devidp: user not found")
	}
	return *sess, u, nil
}

// setUserInfo sets the standard fields of userinfo and adds claims. The
// library's email_verified field is dropped when false, so the claim map
// carries it too.
func setUserInfo(userinfo *oidc.UserInfo, u DemoUser, claims map[string]any) {
	userinfo.Subject = u.ID
	userinfo.Name = u.Name
	userinfo.GivenName = u.GivenName
	userinfo.FamilyName = u.FamilyName
	userinfo.PreferredUsername = u.Username
	userinfo.Email = u.Email
	userinfo.EmailVerified = oidc.Bool(u.EmailVerified)
	for k, v := range claims {
		userinfo.AppendClaims(k, v)
	}
}
