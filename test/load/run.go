package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// defaultCookie is the session cookie name over http (AUTH_URL http://...).
const defaultCookie = "authjs.session-token"

// runFlags are the flags run and cleanup-under-load share.
type runFlags struct {
	base, path string
	o          loadOptions
	warmup     time.Duration
	maxFail    float64
	watchDB    string
	watchPIDs  string
}

func (f *runFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.base, "url", "http://127.0.0.1:4000", "authbff origin (loopback only)")
	fs.StringVar(&f.path, "path", "/api/auth/session", "route to load")
	fs.StringVar(&f.o.cookieName, "cookie", defaultCookie, "session cookie name (__Secure-authjs.session-token over https)")
	fs.IntVar(&f.o.conns, "c", 64, "concurrent connections (one closed loop each)")
	fs.DurationVar(&f.o.duration, "d", 30*time.Second, "measured duration (hard cap)")
	fs.DurationVar(&f.o.timeout, "timeout", 5*time.Second, "per-request timeout")
	fs.IntVar(&f.o.sessions, "sessions", 100_000, "seeded live sessions to pick cookies from")
	fs.Int64Var(&f.o.maxRequests, "n", 50_000_000, "request cap")
	fs.Float64Var(&f.o.rate, "rate", 0, "fixed request rate per second (0: closed loop, as fast as the server answers)")
	fs.BoolVar(&f.o.jar, "jar", true, "send back the CSRF and callback-url cookies the server sets, as a browser does")
	fs.Uint64Var(&f.o.seed, "seed", 1, "random seed for the session choice")
	fs.DurationVar(&f.warmup, "warmup", 0, "unmeasured load before the measured run")
	fs.Float64Var(&f.maxFail, "max-fail", 0.01, "largest accepted share of non-200 answers and errors")
	fs.StringVar(&f.watchDB, "watch-db", "", "database URL whose local PostgreSQL server's CPU use is reported")
	fs.StringVar(&f.watchPIDs, "watch-pids", "", "name=pid,... processes (with children) whose CPU use is reported")
}

// validate checks the flags and fills o.target.
func (f *runFlags) validate() error {
	u, err := url.Parse(f.base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("-url must be an http(s) origin, got %q", f.base)
	}
	if h := u.Hostname(); h != "127.0.0.1" && h != "localhost" && h != "::1" {
		return fmt.Errorf("-url must be on loopback (127.0.0.1), got %q", h)
	}
	if !strings.HasPrefix(f.path, "/") {
		return fmt.Errorf("-path must start with /, got %q", f.path)
	}
	o := &f.o
	if o.conns < 1 || o.conns > 4096 || o.sessions < 1 || o.duration <= 0 || o.duration > time.Hour ||
		o.timeout <= 0 || o.maxRequests < 1 || o.rate < 0 || math.IsInf(o.rate, 0) || f.warmup < 0 || f.warmup > 10*time.Minute {
		return fmt.Errorf("want 1 <= -c <= 4096, -sessions >= 1, 0 < -d <= 1h, -timeout > 0, -n >= 1, -rate >= 0, 0 <= -warmup <= 10m")
	}
	o.target = strings.TrimSuffix(f.base, "/") + f.path
	return nil
}

// watches resolves -watch-db and -watch-pids.
func (f *runFlags) watches(ctx context.Context) map[string]int {
	trees := map[string]int{}
	if f.watchDB != "" {
		if pid, err := postmasterPID(ctx, f.watchDB); err == nil {
			trees["postgres"] = pid
		}
	}
	for _, kv := range strings.Split(f.watchPIDs, ",") {
		name, v, ok := strings.Cut(kv, "=")
		if pid, err := strconv.Atoi(v); ok && err == nil {
			trees[name] = pid
		}
	}
	return trees
}

func (f *runFlags) describe() string {
	mode := "closed loop"
	if f.o.rate > 0 {
		mode = fmt.Sprintf("fixed rate %.0f req/s", f.o.rate)
	}
	return fmt.Sprintf("GET %s, %d connections, %s, %s, %d sessions, cookie jar %t",
		f.o.target, f.o.conns, mode, f.o.duration, f.o.sessions, f.o.jar)
}

func runCmd(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var f runFlags
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := f.validate(); err != nil {
		return err
	}
	fmt.Fprintf(out, "target       %s\n", f.describe())
	if f.warmup > 0 {
		w := f.o
		w.duration, w.seed = f.warmup, f.o.seed+1
		r := generate(ctx, w)
		v := judge(r, f.maxFail)
		fmt.Fprintf(out, "warm-up      %d requests in %s (%d failed)\n", v.total, r.elapsed.Round(time.Millisecond), v.non200+v.errors)
	}
	watch := newCPUWatch(f.watches(ctx))
	r := generate(ctx, f.o)
	perReq := watch.perRequest(len(r.samples))
	cpu := watch.String()
	v := judge(r, f.maxFail)
	report(out, r, v)
	fmt.Fprintf(out, "cpu          %s\n", cpu)
	names := make([]string, 0, len(perReq))
	for n := range perReq {
		names = append(names, n)
	}
	sort.Strings(names)
	line := "CPUREQ"
	for _, n := range names {
		line += fmt.Sprintf(" %s_us=%.1f", n, perReq[n])
	}
	fmt.Fprintln(out, line)
	if !v.ok {
		return fmt.Errorf("%w: %.2f%% failed (limit %.2f%%), %d null bodies", errFailed, v.failRate*100, f.maxFail*100, v.nulls)
	}
	return nil
}
