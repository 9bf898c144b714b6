package domain

// Organization is a tenant a user belongs to. Alias is unique. TenantID is the
// key sent to the backend API as X-Tenant-ID: the IdP's `tenant_id` attribute
// when present, else the alias.
//
// ID is authbff's own key for the organization (sessions refer to it); it
// never leaves authbff. ExternalID is the identity provider's id for it
// (Keycloak's organization id), "" while unknown: it is the only id sent out
// (X-Organization-ID, the session's `id`), so the backend only ever sees an
// id the IdP knows.
type Organization struct {
	ID         string
	ExternalID string
	Alias      string
	Name       string
	TenantID   string
}

// TenantKey returns the value for X-Tenant-ID.
func (o Organization) TenantKey() string {
	if o.TenantID != "" {
		return o.TenantID
	}
	return o.Alias
}

// Matches reports whether ref names this organization: its IdP id or its
// alias (both are the IdP's; authbff's own ID is never accepted from outside).
func (o Organization) Matches(ref string) bool {
	return ref != "" && (ref == o.Alias || ref == o.ExternalID)
}

// Validate reports an organization that must not be stored.
func (o Organization) Validate() error {
	if o.Alias == "" {
		return &ValidationError{Field: "Alias", Reason: "required"}
	}
	return nil
}

// Merge returns the stored organization updated by what a claim says about
// it. A claim may carry only the alias, so an empty name, tenant or IdP id
// keeps what is known (a failed id lookup must not forget a known id);
// authbff's own id never changes once stored.
func (o Organization) Merge(claim Organization) Organization {
	if claim.Name != "" {
		o.Name = claim.Name
	}
	if claim.TenantID != "" {
		o.TenantID = claim.TenantID
	}
	if claim.ExternalID != "" {
		o.ExternalID = claim.ExternalID
	}
	return o
}

// NeedsSwitch reports whether a request to make ref the active organization
// changes anything: an empty ref asks for nothing, and asking for the active
// one again must not rotate the session token.
func NeedsSwitch(active *Organization, ref string) bool {
	return ref != "" && (active == nil || !active.Matches(ref))
}
