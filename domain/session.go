package domain

import "time"

// SealedTokens is the OAuth token set of one sign-in, with every token already
// encrypted by a TokenCipher. The domain never sees a plaintext token.
type SealedTokens struct {
	AccessToken           []byte
	RefreshToken          []byte
	IDToken               []byte
	AccessTokenExpiresAt  time.Time // zero when the IdP did not say
	RefreshTokenExpiresAt time.Time // zero when the IdP did not say
	Scope                 string
}

// SessionRecord is the full stored state of a session. It exists so adapters
// can persist and rehydrate a Session; everything else uses Session's methods,
// which keep its invariants.
type SessionRecord struct {
	ID                   string
	TokenHash            TokenHash
	UserID               string
	CreatedAt            time.Time
	UpdatedAt            time.Time
	LastSeenAt           time.Time
	Expires              time.Time // idle expiry, slid forward by Touch
	AbsoluteExpires      time.Time // hard cap, never moves
	ActiveOrganizationID string    // empty when the user has no organization
	Provider             string
	ProviderSessionID    string // the IdP's session id (Keycloak `sid`), for back-channel logout
	Tokens               SealedTokens
	IPAddress            string
	UserAgent            string
}

// Session is one signed-in browser.
type Session struct {
	r SessionRecord
}

// NewSessionParams are the facts of a completed sign-in.
type NewSessionParams struct {
	UserID               string
	ActiveOrganizationID string
	Provider             string
	ProviderSessionID    string
	Tokens               SealedTokens
	IPAddress            string
	UserAgent            string
}

// NewSession starts a session at now under policy and returns it with the
// token for the cookie. The token is returned once and never stored.
func NewSession(p NewSessionParams, policy SessionPolicy, now time.Time) (*Session, SessionToken, error) {
	if p.UserID == "" {
		return nil, "", &ValidationError{Field: "UserID", Reason: "required"}
	}
	if err := policy.Validate(); err != nil {
		return nil, "", err
	}
	token := NewSessionToken()
	expires, absolute := policy.NewLifetime(now)
	return &Session{r: p.record(NewID(), token.Hash(), now, expires, absolute)}, token, nil
}

// record is a new session's record: started, last seen and updated at now,
// with the addresses cut to what the columns hold.
func (p NewSessionParams) record(id string, hash TokenHash, now, expires, absolute time.Time) SessionRecord {
	return SessionRecord{
		ID:                   id,
		TokenHash:            hash,
		UserID:               p.UserID,
		CreatedAt:            now,
		UpdatedAt:            now,
		LastSeenAt:           now,
		Expires:              expires,
		AbsoluteExpires:      absolute,
		ActiveOrganizationID: p.ActiveOrganizationID,
		Provider:             p.Provider,
		ProviderSessionID:    p.ProviderSessionID,
		Tokens:               p.Tokens,
		IPAddress:            truncate(p.IPAddress, 64),
		UserAgent:            truncate(p.UserAgent, 512),
	}
}

// RehydrateSession rebuilds a Session from storage. Only store adapters call
// it: it trusts the record as it was written by Record.
func RehydrateSession(r SessionRecord) *Session { return &Session{r: r} }

// Record returns the session's state for storage.
func (s *Session) Record() SessionRecord { return s.r }

// ID returns the session's public id (not its token).
func (s *Session) ID() string { return s.r.ID }

// TokenHash returns the hash of the cookie token.
func (s *Session) TokenHash() TokenHash { return s.r.TokenHash }

// UserID returns the owner's id.
func (s *Session) UserID() string { return s.r.UserID }

// CreatedAt returns when the session was created.
func (s *Session) CreatedAt() time.Time { return s.r.CreatedAt }

// LastSeenAt returns when the session was last renewed or changed.
func (s *Session) LastSeenAt() time.Time { return s.r.LastSeenAt }

// Expires returns the current idle expiry.
func (s *Session) Expires() time.Time { return s.r.Expires }

// AbsoluteExpires returns the hard expiry.
func (s *Session) AbsoluteExpires() time.Time { return s.r.AbsoluteExpires }

// ActiveOrganizationID returns the active organization, or "".
func (s *Session) ActiveOrganizationID() string { return s.r.ActiveOrganizationID }

// Provider returns the id of the provider the user signed in with.
func (s *Session) Provider() string { return s.r.Provider }

// ProviderSessionID returns the IdP's session id (Keycloak `sid`).
func (s *Session) ProviderSessionID() string { return s.r.ProviderSessionID }

// Tokens returns the sealed token set.
func (s *Session) Tokens() SealedTokens { return s.r.Tokens }

// IPAddress returns the client address seen at sign-in.
func (s *Session) IPAddress() string { return s.r.IPAddress }

// UserAgent returns the user agent seen at sign-in.
func (s *Session) UserAgent() string { return s.r.UserAgent }

// IsActive reports whether the session is usable at now: neither its idle nor
// its absolute lifetime has passed.
func (s *Session) IsActive(now time.Time) bool {
	return now.Before(s.r.Expires) && now.Before(s.r.AbsoluteExpires)
}

// Touch applies sliding renewal at now and reports whether the session changed
// and must be written. Most calls change nothing (see SessionPolicy.Renewal).
func (s *Session) Touch(policy SessionPolicy, now time.Time) bool {
	next, renew := policy.Renewal(s.r.Expires, s.r.AbsoluteExpires, now)
	if !renew {
		return false
	}
	s.r.Expires = next
	s.r.LastSeenAt = now
	s.r.UpdatedAt = now
	return true
}

// RotateToken gives the session a new cookie token, invalidating the old one.
// Used on privilege changes such as switching organization, so a token that
// leaked before the change is worthless after it.
func (s *Session) RotateToken(now time.Time) SessionToken {
	token := NewSessionToken()
	s.r.TokenHash = token.Hash()
	s.r.UpdatedAt = now
	return token
}

// SwitchOrganization makes orgID the active organization.
func (s *Session) SwitchOrganization(orgID string, now time.Time) {
	s.r.ActiveOrganizationID = orgID
	s.r.UpdatedAt = now
}

// ReplaceTokens stores a refreshed token set.
func (s *Session) ReplaceTokens(t SealedTokens, now time.Time) {
	s.r.Tokens = t
	s.r.UpdatedAt = now
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
