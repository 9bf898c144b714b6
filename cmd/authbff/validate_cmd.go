package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/authbff/authbff/adapters/keycloak"
	"github.com/authbff/authbff/adapters/store"
)

// validateCmd is `authbff validate` (the auth:validate script): it checks the
// configuration (already loaded), the database, the migrations and the
// schema, printing one line per check. It fails on the first broken
// dependency with one line that names the problem.
func validateCmd(ctx context.Context, cfg Config, out io.Writer) error {
	fmt.Fprintf(out, "ok   configuration (%s mode, %s database, public URL %s)\n", mode(cfg), cfg.Store.Dialect, cfg.HTTP.PublicURL)
	if err := checkSQLiteExists(cfg); err != nil {
		return err
	}
	db, m, err := openMigrator(cfg)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	defer db.Close()
	if err := db.Ping(ctx); err != nil {
		return fmt.Errorf("database unreachable: %s", oneLine(err))
	}
	fmt.Fprintln(out, "ok   database reachable")
	pending, err := m.Pending(ctx)
	if err != nil {
		return fmt.Errorf("migrations: cannot read status (run `authbff migrate up`): %s", oneLine(err))
	}
	if len(pending) > 0 {
		return fmt.Errorf("migrations: %d pending (%s); run `authbff migrate up`", len(pending), strings.Join(pending, ", "))
	}
	fmt.Fprintln(out, "ok   migrations applied")
	if err := store.VerifySchema(ctx, db); err != nil {
		return fmt.Errorf("schema: %s", oneLine(err))
	}
	fmt.Fprintln(out, "ok   schema complete")
	if cfg.Keycloak == nil {
		fmt.Fprintln(out, "ok   identity provider: the embedded development IdP (no AUTH_KEYCLOAK_ISSUER)")
		return nil
	}
	idp, err := keycloak.New(*cfg.Keycloak, newLogger(cfg, io.Discard))
	if err != nil {
		return fmt.Errorf("identity provider: %s", oneLine(err))
	}
	fmt.Fprintf(out, "ok   identity provider discovery at %s\n", cfg.Keycloak.Issuer)
	if err := idp.CheckClientCredentials(ctx); err != nil {
		return fmt.Errorf("identity provider client %q: %s", cfg.Keycloak.ClientID, oneLine(err))
	}
	fmt.Fprintf(out, "ok   client %q authenticated by the identity provider\n", cfg.Keycloak.ClientID)
	organizationIDsCheck(ctx, db, idp, out)
	return nil
}

// organizationIDsCheck reports where Keycloak's organization ids come from:
// the admin API (the client's service account may list organizations), or
// the organization claim, which carries them only with "Add organization id"
// on. Without either, X-Organization-ID is not sent; that is a warning, not
// a failure, since sign-in still works.
func organizationIDsCheck(ctx context.Context, db *store.DB, idp *keycloak.Provider, out io.Writer) {
	n, err := keycloak.NewDirectory(idp, keycloak.DirectoryConfig{}).Count(ctx)
	if err == nil {
		fmt.Fprintf(out, "ok   organization ids: Keycloak's admin API resolves organization aliases (%d organizations visible to the client's service account)\n", n)
		return
	}
	const fix = `turn "Add organization id" on in Keycloak's "Organization Membership" mapper (client scope "organization"), ` +
		`or enable the client's service account and give it the realm-management role manage-realm`
	total, missing, cerr := store.CountOrganizations(ctx, db)
	switch {
	case cerr == nil && total > 0 && missing == 0:
		fmt.Fprintf(out, "ok   organization ids: the organization claim carries them (all %d stored organizations have Keycloak's id; "+
			"the admin API is not used: %s)\n", total, oneLine(err))
	case cerr == nil && missing > 0:
		fmt.Fprintf(out, "warn organization ids: the organization claim carries none (%d stored organizations have no Keycloak id, "+
			"so X-Organization-ID is not sent for them) and the admin API cannot resolve them (%s): %s\n", missing, oneLine(err), fix)
	default:
		fmt.Fprintf(out, "warn organization ids: the admin API cannot resolve organization aliases (%s), so they must come in the "+
			"organization claim, else X-Organization-ID is not sent: %s\n", oneLine(err), fix)
	}
}

// dbCmd is `authbff db validate|reset` (db:validate, db:reset).
func dbCmd(ctx context.Context, cfg Config, args []string, out io.Writer) error {
	if len(args) == 0 {
		return exitCode{2, errors.New("db: want validate or reset")}
	}
	switch args[0] {
	case "validate":
		return validateCmd(ctx, cfg, out)
	case "reset":
		if cfg.Production {
			return errors.New("db reset is refused in production mode (AUTH_ENV/NODE_ENV=production)")
		}
		if len(args) < 2 || args[1] != "--yes" {
			return exitCode{2, errors.New("db reset deletes every session and user: run `authbff db reset --yes` to confirm")}
		}
		db, m, err := openMigrator(cfg)
		if err != nil {
			return err
		}
		defer db.Close()
		if _, err := m.Down(ctx, true); err != nil {
			return fmt.Errorf("db reset: %w", err)
		}
		if _, err := m.Up(ctx); err != nil {
			return fmt.Errorf("db reset: %w", err)
		}
		fmt.Fprintln(out, "database reset: all tables dropped and re-created")
		return nil
	}
	return exitCode{2, fmt.Errorf("db: unknown subcommand %q (want validate or reset)", args[0])}
}

func mode(cfg Config) string {
	if cfg.Production {
		return "production"
	}
	return "development"
}

// oneLine flattens an error for a single terminal line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
