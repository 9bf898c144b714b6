package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/authbff/authbff/adapters/nextauth"
	"github.com/authbff/authbff/adapters/store"
	"github.com/authbff/authbff/adapters/tokencipher"
	"github.com/authbff/authbff/application"
)

// importSourceVar names the NextAuth database when --from is absent.
const importSourceVar = "NEXTAUTH_DATABASE_URL"

const importUsage = `usage: NEXTAUTH_DATABASE_URL=<NextAuth DATABASE_URL> authbff import nextauth [flags]
       authbff import nextauth --from <NextAuth DATABASE_URL> [flags]

Copies users, accounts, roles, organization memberships and every unexpired
session of a NextAuth/Auth.js PostgreSQL database into authbff's database
(DATABASE_URL). Browsers keep their session cookies.

The source is --from, or NEXTAUTH_DATABASE_URL when --from is absent. Prefer
the variable: a command line, password included, is visible to every user
of the machine (ps, /proc/PID/cmdline) while the command runs.

Tables and columns are found by introspection; override with:

  --table  users|accounts|sessions|user_roles|user_organizations=NAME
           (user_roles=- or user_organizations=- skips that table)
  --column TABLE.COLUMN=NAME, where TABLE.COLUMN is one of
           users.{id,name,email,email_verified,image}
           accounts.{user_id,type,provider,provider_account_id,access_token,
                     refresh_token,id_token,expires_at,scope,session_state}
           sessions.{session_token,user_id,expires}
           user_roles.{user_id,role}
           user_organizations.{user_id,organization_id,alias,name,tenant_id}

flags:
`

// keyValues is a repeatable --flag key=value.
type keyValues map[string]string

func (kv keyValues) String() string { return "" }

func (kv keyValues) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" || v == "" {
		return errors.New("want NAME=VALUE")
	}
	kv[k] = v
	return nil
}

// importCmd is `authbff import nextauth`. lookup reads NEXTAUTH_DATABASE_URL,
// the source when --from is absent.
func importCmd(ctx context.Context, cfg Config, args []string, out, logOut io.Writer, lookup env) error {
	if len(args) == 0 || args[0] != "nextauth" {
		return exitCode{2, fmt.Errorf("import: want `import nextauth` (source in %s or --from URL)", importSourceVar)}
	}
	fs := flag.NewFlagSet("import nextauth", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() { fmt.Fprint(out, importUsage); fs.PrintDefaults() }
	from := fs.String("from", "", "the NextAuth app's DATABASE_URL (postgres://…; Prisma's ?schema= is honoured); "+
		"default $"+importSourceVar+", which keeps the password out of ps")
	dryRun := fs.Bool("dry-run", false, "read and count, write nothing")
	merge := fs.Bool("merge", false, "allow a target that already has users or sessions (cut-over re-runs, completing an interrupted import)")
	batch := fs.Int("batch", 1000, "users read and written at a time, and rows per write transaction")
	provider := fs.String("provider", "keycloak", "the accounts' provider whose tokens go to the sessions")
	roleSource := fs.String("role-source", "realm", "source of the imported roles: realm, organization or client:<client id>")
	schema := fs.String("schema", "", "the source schema (default: the connection's current schema)")
	tables, columns := keyValues{}, keyValues{}
	fs.Var(tables, "table", "`logical=NAME`: the real name of a table (repeatable)")
	fs.Var(columns, "column", "`table.column=NAME`: the real name of a column (repeatable)")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return exitCode{2, err}
	}
	if *from == "" {
		// The variable rather than the flag keeps the password out of the
		// process list, which every local user can read.
		*from, _ = lookup(importSourceVar)
	}
	if *from == "" {
		return exitCode{2, fmt.Errorf("import nextauth: the NextAuth app's DATABASE_URL is required: set %s (preferred: "+
			"a command line is visible in ps) or pass --from", importSourceVar)}
	}
	if *batch < 1 || *batch > 5000 {
		return exitCode{2, errors.New("import nextauth: --batch must be between 1 and 5000")}
	}
	src, err := nextauth.NewSource(*from, nextauth.Overrides{Schema: *schema, Tables: tables, Columns: columns})
	if err != nil {
		return exitCode{2, fmt.Errorf("import nextauth: %w", err)}
	}
	cipher, err := tokencipher.NewTokenCipher(tokencipher.Secrets(cfg.Secrets))
	if err != nil {
		return err
	}
	db, err := store.Open(cfg.Store)
	if err != nil {
		return err
	}
	defer db.Close()
	h := application.NewImportNextAuthHandler(src, store.NewImportTarget(db), cipher, cfg.Policy,
		application.SystemClock, newLogger(cfg, logOut))
	res, err := h.Handle(ctx, application.ImportNextAuth{Provider: *provider, RoleSource: *roleSource,
		BatchSize: *batch, DryRun: *dryRun, Merge: *merge})
	for _, f := range res.Found {
		fmt.Fprintln(out, "source", f)
	}
	if err != nil {
		if errors.Is(err, application.ErrTargetNotEmpty) {
			return exitCode{3, err}
		}
		return err
	}
	s := res.Source
	fmt.Fprintf(out, "found %d users, %d accounts, %d role grants, %d memberships, %d unexpired sessions\n",
		s.Users, s.Accounts, s.Roles, s.Memberships, s.Sessions)
	if *dryRun {
		fmt.Fprintln(out, "dry run: nothing written")
		return nil
	}
	w := res.Written
	fmt.Fprintf(out, "imported %d users, %d accounts, %d role grants, %d memberships, %d organizations, %d sessions "+
		"(%d sessions skipped) in %s\n", w.Users, w.Accounts, w.Roles, w.Memberships, w.Organizations, w.Sessions,
		res.SkippedSessions, res.Duration.Round(1e6))
	return nil
}
