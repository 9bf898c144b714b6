package devidp

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// storage is the in-memory op.Storage of the provider. One mutex guards all
// maps; every method copies what it hands out, so the library never shares
// a value that a later request changes.
type storage struct {
	client *client
	key    *signingKey
	now    func() time.Time

	mu           sync.Mutex
	authRequests map[string]*authRequest // by id
	codes        map[string]issuedCode   // by code
	sessions     map[string]*session     // by sid
	accessTokens map[string]accessToken  // by jti
	// refreshTokens are the live refresh tokens, by value. usedRefreshTokens
	// are rotated ones, kept until they would have expired, to detect reuse.
	refreshTokens     map[string]refreshToken
	usedRefreshTokens map[string]refreshToken
}

var (
	_ op.Storage                        = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest      = (*storage)(nil)
	_ op.CanGetPrivateClaimsFromRequest = (*storage)(nil)
	_ op.CanTerminateSessionFromRequest = (*storage)(nil)
)

func newStorage(c *client, key *signingKey) *storage {
	return &storage{
		client:            c,
		key:               key,
		now:               time.Now,
		authRequests:      map[string]*authRequest{},
		codes:             map[string]issuedCode{},
		sessions:          map[string]*session{},
		accessTokens:      map[string]accessToken{},
		refreshTokens:     map[string]refreshToken{},
		usedRefreshTokens: map[string]refreshToken{},
	}
}

// issuedCode is an authorization code waiting for its exchange.
type issuedCode struct {
	authRequestID string
	expires       time.Time
}

// authRequest is a stored authorization request (op.AuthRequest). The login
// page completes it by setting the user and the new session.
type authRequest struct {
	id           string
	expires      time.Time
	clientID     string
	redirectURI  string
	state        string
	nonce        string
	scopes       []string
	responseType oidc.ResponseType
	responseMode oidc.ResponseMode
	challenge    *oidc.CodeChallenge
	codeIssued   bool

	// Set by the login page.
	userID    string
	sessionID string
	authTime  time.Time
}

var _ op.AuthRequest = (*authRequest)(nil)

func (a *authRequest) GetID() string { return a.id }

func (a *authRequest) GetACR() string { return acrLoginForm }

func (a *authRequest) GetAMR() []string { return []string{"pwd"} }

func (a *authRequest) GetAudience() []string { return []string{a.clientID} }

func (a *authRequest) GetAuthTime() time.Time { return a.authTime }

func (a *authRequest) GetClientID() string { return a.clientID }

func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge { return a.challenge }

func (a *authRequest) GetNonce() string { return a.nonce }

func (a *authRequest) GetRedirectURI() string { return a.redirectURI }

func (a *authRequest) GetResponseType() oidc.ResponseType { return a.responseType }

func (a *authRequest) GetResponseMode() oidc.ResponseMode { return a.responseMode }

// GetScopes returns the requested scopes plus offline_access. The library
// only issues a refresh token for offline_access; Keycloak issues one on
// every code exchange, so the provider always asks for it. The token
// response and the `scope` claim show the requested scopes only.
func (a *authRequest) GetScopes() []string {
	if slices.Contains(a.scopes, oidc.ScopeOfflineAccess) {
		return slices.Clone(a.scopes)
	}
	return append(slices.Clone(a.scopes), oidc.ScopeOfflineAccess)
}

func (a *authRequest) GetState() string { return a.state }

func (a *authRequest) GetSubject() string { return a.userID }

func (a *authRequest) Done() bool { return a.userID != "" }

func (a *authRequest) clone() *authRequest {
	c := *a
	c.scopes = slices.Clone(a.scopes)
	return &c
}

// CreateAuthRequest stores a validated authorization request. It enforces
// what Keycloak enforces for a client with "pkce.code.challenge.method" set
// to S256, and answers prompt=none with login_required because the provider
// keeps no browser session.
func (s *storage) CreateAuthRequest(_ context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	switch {
	case req.CodeChallengeMethod == "":
		return nil, oidc.ErrInvalidRequest().WithDescription("Missing parameter: code_challenge_method")
	case req.CodeChallengeMethod != oidc.CodeChallengeMethodS256:
		return nil, oidc.ErrInvalidRequest().WithDescription("Invalid parameter: code_challenge_method")
	case req.CodeChallenge == "":
		return nil, oidc.ErrInvalidRequest().WithDescription("Missing parameter: code_challenge")
	case slices.Contains(req.Prompt, oidc.PromptNone):
		return nil, oidc.ErrLoginRequired()
	}
	a := &authRequest{
		id:           rand.Text(),
		expires:      s.now().Add(authRequestLifespan),
		clientID:     req.ClientID,
		redirectURI:  req.RedirectURI,
		state:        req.State,
		nonce:        req.Nonce,
		scopes:       slices.Clone(req.Scopes),
		responseType: req.ResponseType,
		responseMode: req.ResponseMode,
		challenge:    &oidc.CodeChallenge{Challenge: req.CodeChallenge, Method: req.CodeChallengeMethod},
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked()
	s.authRequests[a.id] = a
	return a.clone(), nil
}

// AuthRequestByID returns a stored authorization request that has not
// expired.
func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.authRequestLocked(id)
	if err != nil {
		return nil, err
	}
	return a.clone(), nil
}

func (s *storage) authRequestLocked(id string) (*authRequest, error) {
	a, ok := s.authRequests[id]
	if !ok || s.now().After(a.expires) {
		return nil, errors.New("devidp: authorization request not found or expired")
	}
	return a, nil
}

// AuthRequestByCode redeems an authorization code. A code works once: it
// is gone after the first attempt, even one with a wrong PKCE verifier, as
// in Keycloak.
func (s *storage) AuthRequestByCode(_ context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.codes[code]
	delete(s.codes, code)
	if !ok || s.now().After(c.expires) {
		return nil, errors.New("devidp: code not found, used or expired")
	}
	a, err := s.authRequestLocked(c.authRequestID)
	if err != nil {
		return nil, err
	}
	if !a.Done() {
		return nil, errors.New("devidp: authorization request not completed")
	}
	return a.clone(), nil
}

// SaveAuthCode records the code issued for a completed request. Only one
// code is issued per request, so replaying the callback yields nothing.
func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.authRequestLocked(id)
	if err != nil {
		return err
	}
	if a.codeIssued {
		return oidc.ErrInvalidRequest().WithDescription("Code already issued for this request")
	}
	a.codeIssued = true
	s.codes[code] = issuedCode{authRequestID: id, expires: s.now().Add(codeLifespan)}
	return nil
}

// DeleteAuthRequest removes a request once its code was exchanged.
func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.authRequests, id)
	return nil
}

// completeLogin signs the user in for the authorization request id: it
// starts a new session (a new `sid`) and marks the request done.
func (s *storage) completeLogin(id string, u DemoUser) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.authRequestLocked(id)
	if err != nil {
		return err
	}
	if a.Done() {
		return errors.New("devidp: authorization request already completed")
	}
	now := s.now()
	sess := &session{
		id:       newUUID(),
		userID:   u.ID,
		clientID: a.clientID,
		authTime: now.Truncate(time.Second),
		scopes:   slices.Clone(a.scopes),
		expires:  a.expires.Add(codeLifespan),
	}
	s.sessions[sess.id] = sess
	a.userID, a.sessionID, a.authTime = u.ID, sess.id, sess.authTime
	return nil
}

// pruneLocked drops everything that has expired. It runs on every write,
// which keeps the maps small without a background goroutine.
func (s *storage) pruneLocked() {
	now := s.now()
	for id, a := range s.authRequests {
		if now.After(a.expires) {
			delete(s.authRequests, id)
		}
	}
	for code, c := range s.codes {
		if now.After(c.expires) {
			delete(s.codes, code)
		}
	}
	for id, t := range s.accessTokens {
		if now.After(t.expires) {
			delete(s.accessTokens, id)
		}
	}
	for _, m := range []map[string]refreshToken{s.refreshTokens, s.usedRefreshTokens} {
		for v, t := range m {
			if now.After(t.expires) {
				delete(m, v)
			}
		}
	}
	for id, sess := range s.sessions {
		if now.After(sess.expires) {
			delete(s.sessions, id)
		}
	}
}

// newUUID returns a random (version 4) UUID, the format of Keycloak's ids.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
