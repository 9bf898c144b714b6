package store

import (
	"context"
	"fmt"
)

// Tables lists every table the migrations create, in dependency order.
var Tables = []string{
	"users", "accounts", "organizations", "sessions", "verification_tokens",
	"roles", "user_roles", "user_organizations", "login_flows", "imported_sessions",
}

// VerifySchema checks that every table exists and is readable, the
// `db validate` check of the replaced system's Prisma scripts.
func VerifySchema(ctx context.Context, db *DB) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	for _, t := range Tables {
		if _, err := db.ExecContext(ctx, "SELECT 1 FROM "+t+" WHERE 1 = 0"); err != nil {
			return fmt.Errorf("table %s: %w", t, mapError(err))
		}
	}
	return nil
}
