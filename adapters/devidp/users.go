package devidp

import "slices"

// DemoUser is one of the fixed users the development provider can sign in.
// Every field is the same on every start, so tests and docs can rely on it.
type DemoUser struct {
	// ID is the user's stable subject (`sub`), a fixed UUID.
	ID string
	// Username is the login name, emitted as `preferred_username`.
	Username      string
	Name          string
	GivenName     string
	FamilyName    string
	Email         string
	EmailVerified bool
	// RealmRoles are emitted as `realm_access.roles`.
	RealmRoles []string
	// ClientRoles are the user's roles on the configured client, emitted as
	// `resource_access.<client id>.roles`.
	ClientRoles []string
	// Organizations are the aliases of the organizations the user belongs to.
	Organizations []string
}

// DemoOrganization is one of the fixed organizations of the development
// provider, shaped like a Keycloak 26 organization.
type DemoOrganization struct {
	// ID is the organization's fixed UUID, emitted as `organization.<alias>.id`.
	ID    string
	Alias string
	Name  string
	// Attributes are the organization's attributes; Keycloak's organization
	// mapper emits each of them as an array of strings.
	Attributes map[string][]string
}

var demoUsers = []DemoUser{
	{
		ID:            "a11ce000-de00-4000-8000-000000000001",
		Username:      "alice",
		Name:          "Alice Admin",
		GivenName:     "Alice",
		FamilyName:    "Admin",
		Email:         "alice@example.com",
		EmailVerified: true,
		RealmRoles:    []string{"admin", "user"},
		ClientRoles:   []string{"reports-viewer"},
		Organizations: []string{"acme"},
	},
	{
		ID:            "b0b00000-de00-4000-8000-000000000002",
		Username:      "bob",
		Name:          "Bob User",
		GivenName:     "Bob",
		FamilyName:    "User",
		Email:         "bob@example.com",
		EmailVerified: true,
		RealmRoles:    []string{"user"},
		Organizations: []string{"acme", "globex"},
	},
	{
		ID:            "ca201000-de00-4000-8000-000000000003",
		Username:      "carol",
		Name:          "Carol NoOrg",
		GivenName:     "Carol",
		FamilyName:    "NoOrg",
		Email:         "carol@example.com",
		EmailVerified: false,
		RealmRoles:    []string{"user"},
	},
}

var demoOrganizations = []DemoOrganization{
	{
		ID:         "0a0a0a0a-de00-4000-8000-000000000a01",
		Alias:      "acme",
		Name:       "Acme",
		Attributes: map[string][]string{"tenant_id": {"tenant-acme"}},
	},
	{
		ID:    "0b0b0b0b-de00-4000-8000-000000000b02",
		Alias: "globex",
		Name:  "Globex",
	},
}

// Users returns the demo users, in the order the login page lists them.
// The result is a copy; changing it does not change the provider.
func Users() []DemoUser {
	out := make([]DemoUser, len(demoUsers))
	for i, u := range demoUsers {
		out[i] = u.clone()
	}
	return out
}

// Organizations returns the demo organizations. The result is a copy.
func Organizations() []DemoOrganization {
	out := make([]DemoOrganization, len(demoOrganizations))
	for i, o := range demoOrganizations {
		out[i] = o
		out[i].Attributes = make(map[string][]string, len(o.Attributes))
		for k, v := range o.Attributes {
			out[i].Attributes[k] = slices.Clone(v)
		}
	}
	return out
}

func (u DemoUser) clone() DemoUser {
	u.RealmRoles = slices.Clone(u.RealmRoles)
	u.ClientRoles = slices.Clone(u.ClientRoles)
	u.Organizations = slices.Clone(u.Organizations)
	return u
}

// userByID finds a demo user by subject.
func userByID(id string) (DemoUser, bool) {
	for _, u := range demoUsers {
		if u.ID == id {
			return u, true
		}
	}
	return DemoUser{}, false
}

// userByUsername finds a demo user by login name.
func userByUsername(username string) (DemoUser, bool) {
	for _, u := range demoUsers {
		if u.Username == username {
			return u, true
		}
	}
	return DemoUser{}, false
}

// organizationByAlias finds a demo organization by alias.
func organizationByAlias(alias string) (DemoOrganization, bool) {
	for _, o := range demoOrganizations {
		if o.Alias == alias {
			return o, true
		}
	}
	return DemoOrganization{}, false
}
