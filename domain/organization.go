package domain

// Organization is a tenant a user belongs to. Alias is unique. TenantID is the
// key sent to the backend API as X-Tenant-ID: the IdP's `tenant_id` attribute
// when present, else the alias. ID is sent as X-Organization-ID.
type Organization struct {
	ID       string
	Alias    string
	Name     string
	TenantID string
}

// TenantKey returns the value for X-Tenant-ID.
func (o Organization) TenantKey() string {
	if o.TenantID != "" {
		return o.TenantID
	}
	return o.Alias
}

// Validate reports an organization that must not be stored.
func (o Organization) Validate() error {
	if o.Alias == "" {
		return &ValidationError{Field: "Alias", Reason: "required"}
	}
	return nil
}

// Merge returns the stored organization updated by what a claim says about
// it. A claim may carry only the alias, so an empty name or tenant keeps what
// is known; the id never changes once stored.
func (o Organization) Merge(claim Organization) Organization {
	if claim.Name != "" {
		o.Name = claim.Name
	}
	if claim.TenantID != "" {
		o.TenantID = claim.TenantID
	}
	return o
}

// Matches reports whether ref names this organization, by id or alias (the
// client may send either).
func (o Organization) Matches(ref string) bool {
	return ref != "" && (ref == o.ID || ref == o.Alias)
}

// NeedsSwitch reports whether a request to make ref the active organization
// changes anything: an empty ref asks for nothing, and asking for the active
// one again must not rotate the session token.
func NeedsSwitch(active *Organization, ref string) bool {
	return ref != "" && (active == nil || !active.Matches(ref))
}
