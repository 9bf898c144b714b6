package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"sort"

	"github.com/authbff/authbff/adapters/store"
	"github.com/authbff/authbff/application"
)

// sessionsCmd is `authbff sessions cleanup|stats|revoke` (auth:cleanup, the
// monitoring query, and ending a user's sessions).
func sessionsCmd(ctx context.Context, cfg Config, args []string, out, logOut io.Writer) error {
	if len(args) == 0 {
		return exitCode{2, fmt.Errorf("sessions: want cleanup, stats or revoke")}
	}
	sub := map[string]func(context.Context, Config, *store.DB, []string, io.Writer, io.Writer) error{
		"cleanup": sessionsCleanup,
		"stats":   sessionsStats,
		"revoke":  sessionsRevoke,
	}[args[0]]
	if sub == nil {
		return exitCode{2, fmt.Errorf("sessions: unknown subcommand %q (want cleanup, stats or revoke)", args[0])}
	}
	db, err := openMigrated(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	return sub(ctx, cfg, db, args[1:], out, logOut)
}

func sessionsCleanup(ctx context.Context, cfg Config, db *store.DB, args []string, out, logOut io.Writer) error {
	fs := flag.NewFlagSet("sessions cleanup", flag.ContinueOnError)
	batch := fs.Int("batch", cfg.CleanupBatchSize, "rows deleted per statement")
	if err := fs.Parse(args); err != nil {
		return exitCode{2, err}
	}
	h, err := buildUseCase[*application.CleanupSessionsHandler](cfg, db, logOut)
	if err != nil {
		return err
	}
	res, err := h.Handle(ctx, application.CleanupSessions{Caller: application.OperatorCaller(), BatchSize: *batch})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "deleted %d expired sessions, %d login flows, %d verification tokens\n",
		res.Sessions, res.LoginFlows, res.VerificationTokens)
	return nil
}

func sessionsStats(ctx context.Context, cfg Config, db *store.DB, args []string, out, logOut io.Writer) error {
	fs := flag.NewFlagSet("sessions stats", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return exitCode{2, err}
	}
	h, err := buildUseCase[*application.SessionStatsHandler](cfg, db, logOut)
	if err != nil {
		return err
	}
	st, err := h.Handle(ctx, application.OperatorCaller())
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(statsJSON(st))
	}
	fmt.Fprintf(out, "total sessions:          %d\n", st.Total)
	fmt.Fprintf(out, "active sessions:         %d\n", st.Active)
	fmt.Fprintf(out, "expired sessions:        %d\n", st.Expired)
	fmt.Fprintf(out, "average duration (h):    %.2f\n", st.AverageDurationHours)
	fmt.Fprintf(out, "created in last 24h:     %d\n", st.CreatedLast24h)
	orgs := make([]string, 0, len(st.ActivePerOrganization))
	for o := range st.ActivePerOrganization {
		orgs = append(orgs, o)
	}
	sort.Strings(orgs)
	for _, o := range orgs {
		fmt.Fprintf(out, "active in %-14s %d\n", o+":", st.ActivePerOrganization[o])
	}
	return nil
}

func sessionsRevoke(ctx context.Context, cfg Config, db *store.DB, args []string, out, logOut io.Writer) error {
	fs := flag.NewFlagSet("sessions revoke", flag.ContinueOnError)
	user := fs.String("user", "", "the user's id or email")
	if err := fs.Parse(args); err != nil {
		return exitCode{2, err}
	}
	if *user == "" {
		return exitCode{2, fmt.Errorf("sessions revoke: --user <id|email> is required")}
	}
	h, err := buildUseCase[*application.UserSessionsHandler](cfg, db, logOut)
	if err != nil {
		return err
	}
	u, n, err := h.Revoke(ctx, application.UserSessions{Caller: application.OperatorCaller(), User: *user})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "revoked %d session(s) of %s (%s)\n", n, u.Email, u.ID)
	return nil
}
