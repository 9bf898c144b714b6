package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// cleanupOptions are cleanup-under-load's own flags.
type cleanupOptions struct {
	databaseURL string
	authbff     string
	batch       int
	baseline    time.Duration
	tail        time.Duration
	limit       time.Duration
}

// cleanupCmd measures docs/security.md R8: a fixed-rate session load (R7) runs for
// a baseline, then `authbff sessions cleanup` purges the expired rows while it
// continues. It reports the cleanup's duration, its longest DELETE, and the
// lookup p99 during the cleanup against the baseline.
func cleanupCmd(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("cleanup-under-load", flag.ContinueOnError)
	var f runFlags
	f.register(fs)
	var c cleanupOptions
	fs.StringVar(&c.databaseURL, "database-url", os.Getenv("DATABASE_URL"), "the database authbff serves from")
	fs.StringVar(&c.authbff, "authbff", "bin/authbff", "authbff binary that runs the cleanup")
	fs.IntVar(&c.batch, "batch", 1000, "cleanup batch size (authbff sessions cleanup --batch)")
	fs.DurationVar(&c.baseline, "baseline", 20*time.Second, "load before the cleanup starts (the first 2 s are not measured)")
	fs.DurationVar(&c.tail, "tail", 5*time.Second, "load after the cleanup ends")
	fs.DurationVar(&c.limit, "cleanup-limit", 10*time.Minute, "the cleanup is killed after this long (R8: 10 min)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !flagSet(fs, "rate") {
		f.o.rate = 500 // R7's rate
	}
	f.o.duration = c.baseline + c.limit + c.tail
	if err := f.validate(); err != nil {
		return err
	}
	if c.databaseURL == "" || c.baseline < 3*time.Second || c.limit <= 0 || c.tail < 0 {
		return fmt.Errorf("want -database-url, -baseline >= 3s, -cleanup-limit > 0")
	}
	expired, total, err := countSessions(ctx, c.databaseURL)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "target       %s\nsessions     %d rows, %d expired\n", f.describe(), total, expired)

	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	done := make(chan *loadResult, 1)
	watch := newCPUWatch(f.watches(ctx))
	started := time.Now()
	go func() { done <- generate(loadCtx, f.o) }()

	select {
	case <-ctx.Done():
		stopLoad()
		<-done
		return ctx.Err()
	case <-time.After(c.baseline):
	}
	mon := startDeleteMonitor(ctx, c.databaseURL)
	cleanStart := time.Since(started)
	cleanOut, cleanCPU, cleanErr := runCleanup(ctx, c)
	cleanEnd := time.Since(started)
	longest, waits, backendCPU := mon.stop()
	select {
	case <-ctx.Done():
	case <-time.After(c.tail):
	}
	stopLoad()
	r := <-done
	cpu := watch.String()

	v := judge(r, f.maxFail)
	base := summarize(window(r.samples, 2*time.Second, cleanStart), cleanStart-2*time.Second)
	during := summarize(window(r.samples, cleanStart, cleanEnd), cleanEnd-cleanStart)
	fmt.Fprintf(out, "cleanup      %s, %s", (cleanEnd - cleanStart).Round(time.Millisecond), strings.TrimSpace(cleanOut))
	if cleanErr != nil {
		fmt.Fprintf(out, " (FAILED: %v)", cleanErr)
	}
	fmt.Fprintf(out, "\nlongest DELETE seen %s; lookups seen waiting on a lock: %d; CPU: authbff cleanup %s, its PostgreSQL backend %s\n",
		longest.Round(time.Millisecond), waits, cleanCPU.Round(10*time.Millisecond), backendCPU.Round(10*time.Millisecond))
	fmt.Fprintf(out, "baseline     %d req, %.1f req/s, %s\n", base.count, base.rps, base.latencyLine())
	fmt.Fprintf(out, "during       %d req, %.1f req/s, %s\n", during.count, during.rps, during.latencyLine())
	ratio := 0.0
	if base.p99 > 0 {
		ratio = float64(during.p99) / float64(base.p99)
	}
	fmt.Fprintf(out, "R7 baseline p99 %s (target <= 5ms): %s\n", ms(base.p99), passFail(base.p99 <= 5*time.Millisecond))
	fmt.Fprintf(out, "R8 cleanup %s (<= 10m), longest DELETE %s (<= 1s), p99 x%.2f (<= 2): %s\n",
		(cleanEnd - cleanStart).Round(time.Second), longest.Round(time.Millisecond), ratio,
		passFail(cleanErr == nil && cleanEnd-cleanStart <= 10*time.Minute && longest <= time.Second && ratio <= 2))
	fmt.Fprintln(out, "whole run:")
	report(out, r, v)
	fmt.Fprintf(out, "cpu          %s\n", cpu)
	if cleanErr != nil {
		return fmt.Errorf("cleanup: %w", cleanErr)
	}
	if !v.ok {
		return fmt.Errorf("%w: %.2f%% failed, %d null bodies", errFailed, v.failRate*100, v.nulls)
	}
	return nil
}

func passFail(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// runCleanup runs `authbff sessions cleanup` against the database, bounded by
// the cleanup limit. authbff needs no secret for it, but its configuration
// check would generate a development one into a data folder: give it a
// throwaway folder.
func runCleanup(ctx context.Context, c cleanupOptions) (string, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, c.limit)
	defer cancel()
	dataDir, err := os.MkdirTemp("", "authbff-load-cleanup-")
	if err != nil {
		return "", 0, err
	}
	defer os.RemoveAll(dataDir)
	cmd := exec.CommandContext(ctx, c.authbff, "sessions", "cleanup", "--batch", fmt.Sprint(c.batch))
	cmd.Dir = dataDir // not the repository: authbff would read a .env there
	cmd.Env = append(os.Environ(), "DATABASE_URL="+c.databaseURL, "AUTH_DATA_DIR="+dataDir, "AUTH_DEBUG=false")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var cpu time.Duration
	if cmd.ProcessState != nil {
		cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	if err != nil {
		return stdout.String(), cpu, fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), cpu, nil
}

func countSessions(ctx context.Context, databaseURL string) (expired, total int64, err error) {
	conn, err := connect(ctx, databaseURL)
	if err != nil {
		return 0, 0, err
	}
	defer conn.Close(context.Background())
	err = conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE expires <= now() OR absolute_expires <= now()), count(*)
		FROM sessions`).Scan(&expired, &total)
	return expired, total, err
}
