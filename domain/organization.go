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
