// Command load is authbff's load tool: it seeds a PostgreSQL database with
// sessions whose cookies it can rebuild, drives GET /api/auth/session with a
// closed-loop (or fixed-rate) HTTP load, measures a session cleanup under load
// (docs/security.md R7, R8), and serves the session route in-process with a CPU
// profile. test/load/session-bench.sh runs the whole measurement.
//
//	go run ./test/load seed -database-url URL -live N -expired M
//	go run ./test/load run -url http://127.0.0.1:PORT -c 64 -d 30s -sessions N
//	go run ./test/load cleanup-under-load -database-url URL -url ... -authbff bin/authbff
//	go run ./test/load profile-serve -database-url URL -listen 127.0.0.1:PORT -cpuprofile cpu.pprof
//	go run ./test/load reference-serve -database-url URL -listen 127.0.0.1:PORT [-memory]
//
// Every loop is bounded in time and in count and stops by itself.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: go run ./test/load <command> [flags]

commands:
  seed                 insert one user, an organization, roles and N live + M expired sessions
  run                  HTTP load on one route with cookies of seeded sessions; prints req/s and latencies
  cleanup-under-load   fixed-rate load, then "authbff sessions cleanup" during it; p99 before vs during
  profile-serve        serve the session route in-process for a while and write a CPU profile
  reference-serve      the yardstick: net/http + pgx, one prepared lookup, the same session JSON (-memory: the HTTP ceiling)
  upstream-serve       a minimal backend API for the proxy measurement
  ratios               read session-bench.sh yardsticks results on stdin, print the table and ratios
  createdb, dropdb     make and remove a throwaway database (helpers for session-bench.sh)
  freeport             print a free loopback port
  tokens               print seeded cookie values, one a line (for wrk-session.lua)

Run "go run ./test/load <command> -h" for a command's flags.
`

// errFailed means the measurement ran but did not pass its checks; the
// command exits 1 after printing the results.
var errFailed = errors.New("load check failed")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := dispatch(ctx, os.Args[1:], os.Stdout)
	if err == nil {
		return
	}
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	fmt.Fprintln(os.Stderr, "load:", err)
	os.Exit(1)
}

func dispatch(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "seed":
		return seedCmd(ctx, args[1:], out)
	case "run":
		return runCmd(ctx, args[1:], out)
	case "cleanup-under-load":
		return cleanupCmd(ctx, args[1:], out)
	case "profile-serve":
		return profileCmd(ctx, args[1:], out)
	case "reference-serve":
		return referenceCmd(ctx, args[1:], out)
	case "upstream-serve":
		return upstreamCmd(ctx, args[1:], out)
	case "ratios":
		return ratiosCmd(ctx, args[1:], out)
	case "createdb":
		return createDBCmd(ctx, args[1:], out)
	case "dropdb":
		return dropDBCmd(ctx, args[1:], out)
	case "freeport":
		return freePortCmd(ctx, args[1:], out)
	case "tokens":
		return tokensCmd(ctx, args[1:], out)
	case "help", "-h", "--help":
		fmt.Fprint(out, usage)
		return nil
	}
	fmt.Fprint(os.Stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}
