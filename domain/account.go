package domain

// Account links a User to an identity at a provider. For OIDC the provider
// account id is the `sub` claim; (Provider, ProviderAccountID) is unique.
// OAuth tokens are deliberately not kept here but on each Session, because
// every sign-in is its own IdP session with its own tokens.
type Account struct {
	ID                string
	UserID            string
	Type              string // "oidc"
	Provider          string // e.g. "keycloak"
	ProviderAccountID string
}

// Validate reports an account that must not be stored.
func (a Account) Validate() error {
	switch {
	case a.UserID == "":
		return &ValidationError{Field: "UserID", Reason: "required"}
	case a.Provider == "":
		return &ValidationError{Field: "Provider", Reason: "required"}
	case a.ProviderAccountID == "":
		return &ValidationError{Field: "ProviderAccountID", Reason: "required"}
	}
	return nil
}
