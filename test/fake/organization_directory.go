package fake

import (
	"context"
	"sync"

	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
)

// OrganizationDirectory is an in-memory ports.OrganizationDirectory: the
// IdP's organizations by alias, and an error to answer with instead.
type OrganizationDirectory struct {
	mu    sync.Mutex
	orgs  map[string]domain.Organization
	err   error
	calls int
}

var _ ports.OrganizationDirectory = (*OrganizationDirectory)(nil)

// NewOrganizationDirectory returns a directory holding orgs (by alias).
func NewOrganizationDirectory(orgs ...domain.Organization) *OrganizationDirectory {
	d := &OrganizationDirectory{orgs: map[string]domain.Organization{}}
	for _, o := range orgs {
		d.orgs[o.Alias] = o
	}
	return d
}

// Fail makes every lookup return err (nil: answer again).
func (d *OrganizationDirectory) Fail(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.err = err
}

// Calls is how many lookups were made.
func (d *OrganizationDirectory) Calls() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.calls
}

// ByAlias implements ports.OrganizationDirectory.
func (d *OrganizationDirectory) ByAlias(_ context.Context, aliases []string) (map[string]domain.Organization, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls++
	if d.err != nil {
		return nil, d.err
	}
	out := map[string]domain.Organization{}
	for _, a := range aliases {
		if o, ok := d.orgs[a]; ok {
			out[a] = o
		}
	}
	return out, nil
}

// Put adds or replaces organizations (by alias).
func (d *OrganizationDirectory) Put(orgs ...domain.Organization) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, o := range orgs {
		d.orgs[o.Alias] = o
	}
}
