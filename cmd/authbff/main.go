// Command authbff is the authentication backend-for-frontend: the server and
// the operator tools (the NextAuth app's db:* and auth:* scripts) in one binary.
//
//	authbff serve [--migrate]       run the HTTP server
//	authbff migrate up|down|status  apply, roll back (--all) or list migrations
//	authbff validate                check config, database, migrations
//	authbff db validate|reset       check the schema; drop and re-create (not in production)
//	authbff sessions cleanup|stats  delete expired sessions; print statistics
//	authbff sessions revoke --user  end every session of a user
//	authbff import nextauth         take over a NextAuth database (NEXTAUTH_DATABASE_URL)
//	authbff users count             how many users are stored
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: authbff <command> [arguments]

commands:
  serve [--migrate]            run the HTTP server (default command)
  migrate up                   apply pending migrations
  migrate down [--all]         roll back the last migration group (or all)
  migrate status               list migrations and whether they are applied
  validate                     check configuration, database and migrations
  db validate                  check that the database schema is complete
  db reset --yes               drop and re-create every table (refused in production)
  sessions cleanup [--batch N] delete expired sessions, login flows, verification tokens
  sessions stats [--json]      print session statistics
  sessions revoke --user U     end every session of a user (id or email)
  import nextauth              copy the NextAuth database NEXTAUTH_DATABASE_URL's
                               users and live sessions (--from URL also works but
                               shows the password in ps; --dry-run, --merge;
                               see import nextauth -h)
  users count                  print how many users are stored

Configuration comes from the environment (and .env); see README.md.
`

// exitCode is an error that carries the process exit status.
type exitCode struct {
	code int
	err  error
}

func (e exitCode) Error() string { return e.err.Error() }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv)
	if err == nil {
		return
	}
	code := 1
	var ec exitCode
	if errors.As(err, &ec) {
		code = ec.code
	}
	fmt.Fprintln(os.Stderr, "authbff:", err)
	os.Exit(code)
}

// run dispatches a command line. It never calls os.Exit, so tests drive it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, lookup env) error {
	if len(args) == 0 {
		args = []string{"serve"}
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	if err := loadDotEnv(); err != nil {
		return exitCode{2, err}
	}
	cfg, err := loadConfig(lookup, args[0] == "serve")
	if err != nil {
		return exitCode{2, err}
	}
	switch args[0] {
	case "serve":
		return serve(ctx, cfg, args[1:], stderr)
	case "migrate":
		return migrateCmd(ctx, cfg, args[1:], stdout)
	case "validate":
		return validateCmd(ctx, cfg, stdout)
	case "db":
		return dbCmd(ctx, cfg, args[1:], stdout)
	case "sessions":
		return sessionsCmd(ctx, cfg, args[1:], stdout, stderr)
	case "import":
		return importCmd(ctx, cfg, args[1:], stdout, stderr, lookup)
	case "users":
		return usersCmd(ctx, cfg, args[1:], stdout, stderr)
	}
	fmt.Fprint(stderr, usage)
	return exitCode{2, fmt.Errorf("unknown command %q", args[0])}
}
