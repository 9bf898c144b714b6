package store

import "context"

// OrganizationsWithoutExternalID counts stored organizations whose IdP id is
// unknown: proof for `authbff validate` that sign-ins got organization claims
// without ids that the IdP's directory could not resolve either.
func OrganizationsWithoutExternalID(ctx context.Context, db *DB) (int, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	n, err := db.NewSelect().Model((*organizationRow)(nil)).Where("external_id IS NULL").Count(ctx)
	if err != nil {
		return 0, mapError(err)
	}
	return int(n), nil
}
