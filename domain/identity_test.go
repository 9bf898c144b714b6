package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/domain"
)

func TestIdentityMergeIntoFollowsTheIdP(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	id := domain.Identity{Provider: "keycloak", Subject: "s1", Name: "Ann", Email: " Ann@Example.COM ", EmailVerified: true}

	first, err := id.MergeInto(nil, t0)
	require.NoError(t, err)
	require.NotEmpty(t, first.ID)
	require.Equal(t, "ann@example.com", first.Email, "emails are normalised")
	require.Equal(t, t0, first.CreatedAt)
	require.Equal(t, t0, *first.EmailVerified)

	// Still verified an hour later: the first verification time is kept,
	// the profile follows the IdP, the id and creation time stay.
	id.Name = "Ann B."
	again, err := id.MergeInto(&first, t0.Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, first.ID, again.ID)
	require.Equal(t, t0, again.CreatedAt)
	require.Equal(t, t0.Add(time.Hour), again.UpdatedAt)
	require.Equal(t, "Ann B.", again.Name)
	require.Equal(t, t0, *again.EmailVerified)

	// The IdP no longer vouches for the email: the verification goes.
	id.EmailVerified = false
	unverified, err := id.MergeInto(&again, t0.Add(2*time.Hour))
	require.NoError(t, err)
	require.Nil(t, unverified.EmailVerified)

	id.Email = "a@example.com,b@example.com"
	_, err = id.MergeInto(&again, t0)
	var ve *domain.ValidationError
	require.True(t, errors.As(err, &ve))
	require.Equal(t, "Email", ve.Field)
}

func TestIdentityValidate(t *testing.T) {
	ok := domain.Identity{Provider: "keycloak", Subject: "s"}
	require.NoError(t, ok.Validate())
	for name, id := range map[string]domain.Identity{
		"no subject":         {Provider: "keycloak"},
		"no provider":        {Subject: "s"},
		"role of bad source": {Provider: "keycloak", Subject: "s", Roles: []domain.Role{{Name: "x", Source: "bogus"}}},
		"org without alias":  {Provider: "keycloak", Subject: "s", Organizations: []domain.Organization{{ID: "o"}}},
	} {
		var ve *domain.ValidationError
		require.True(t, errors.As(id.Validate(), &ve), name)
	}
}

func TestIdentityDistinctSetsAreSortedInByteOrder(t *testing.T) {
	id := domain.Identity{
		Roles: []domain.Role{{Name: "b", Source: "realm"}, {Name: "B", Source: "realm"}, {Name: "b", Source: "realm"},
			{Name: "a", Source: "client:x"}},
		Organizations: []domain.Organization{{Alias: "beta", Name: "first"}, {Alias: "Alpha"}, {Alias: "beta", Name: "second"}},
	}
	require.Equal(t, []domain.Role{{Name: "a", Source: "client:x"}, {Name: "B", Source: "realm"}, {Name: "b", Source: "realm"}},
		id.DistinctRoles())
	require.Equal(t, []domain.Organization{{Alias: "Alpha"}, {Alias: "beta", Name: "first"}}, id.DistinctOrganizations())
}

func TestOrganizationMergeKeepsWhatAnAliasOnlyClaimOmits(t *testing.T) {
	stored := domain.Organization{ID: "o1", Alias: "acme", Name: "Acme", TenantID: "t-1"}
	require.Equal(t, stored, stored.Merge(domain.Organization{Alias: "acme"}))
	require.Equal(t, domain.Organization{ID: "o1", Alias: "acme", Name: "Acme Inc", TenantID: "t-2"},
		stored.Merge(domain.Organization{ID: "other", Alias: "acme", Name: "Acme Inc", TenantID: "t-2"}))
	require.Equal(t, "kc-1", stored.Merge(domain.Organization{Alias: "acme", ExternalID: "kc-1"}).ExternalID,
		"the IdP's id is learned")
	known := domain.Organization{ID: "o1", ExternalID: "kc-1", Alias: "acme"}
	require.Equal(t, "kc-1", known.Merge(domain.Organization{Alias: "acme"}).ExternalID,
		"a claim without the id keeps the known one")
}

func TestNeedsSwitch(t *testing.T) {
	active := &domain.Organization{ID: "internal-1", ExternalID: "o1", Alias: "acme"}
	cases := []struct {
		active *domain.Organization
		ref    string
		want   bool
	}{
		{active, "", false},
		{active, "o1", false},
		{active, "acme", false},
		{active, "o2", true},
		{active, "internal-1", true}, // authbff's own id is never accepted from outside
		{nil, "acme", true},
		{nil, "", false},
	}
	for _, c := range cases {
		require.Equal(t, c.want, domain.NeedsSwitch(c.active, c.ref), "active %v, ref %q", c.active, c.ref)
	}
}
