package store

import "context"

// CountOrganizations counts stored organizations, and those whose IdP id is
// unknown: evidence for `authbff validate` of whether sign-ins got
// organization claims with ids.
func CountOrganizations(ctx context.Context, db *DB) (total, withoutExternalID int, err error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	var n struct {
		Total   int `bun:"total"`
		Missing int `bun:"missing"`
	}
	err = db.NewSelect().Model((*organizationRow)(nil)).
		ColumnExpr("count(*) AS total").
		ColumnExpr("count(*) - count(external_id) AS missing").
		Scan(ctx, &n)
	if err != nil {
		return 0, 0, mapError(err)
	}
	return n.Total, n.Missing, nil
}
