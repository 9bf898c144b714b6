package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/authbff/authbff/adapters/httpapi"
	"github.com/authbff/authbff/adapters/logging"
	"github.com/authbff/authbff/adapters/store"
	"github.com/authbff/authbff/application"
	"github.com/authbff/authbff/domain"
)

// profileCmd serves authbff's HTTP routes in-process, wired as `authbff
// serve` wires them for GET /session (gin router and middleware, the session
// use case, the PostgreSQL store, the same http.Server), and writes a CPU
// profile of the server alone while `run` loads it from another process.
// authbff has no pprof endpoint, and production code stays as it is.
func profileCmd(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("profile-serve", flag.ContinueOnError)
	dbURL := fs.String("database-url", os.Getenv("DATABASE_URL"), "seeded database (connection_limit sets the pool)")
	listen := fs.String("listen", "127.0.0.1:4100", "loopback address to serve on")
	dur := fs.Duration("d", 40*time.Second, "how long to serve (hard cap)")
	profile := fs.String("cpuprofile", "cpu.pprof", "CPU profile output")
	logTo := fs.String("log", "", "access log file (default: discarded)")
	cacheTTL := fs.Duration("cache-ttl", 0, "session cache TTL, as AUTH_SESSION_CACHE_TTL (0: off)")
	memProfile := fs.String("memprofile", "", "also write an allocation profile (every allocation sampled) on exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dur <= 0 || *dur > 30*time.Minute {
		return fmt.Errorf("-d must be in (0, 30m]")
	}
	if *memProfile != "" {
		runtime.MemProfileRate = 1 // before anything is built: every allocation, not a sample
	}
	handler, closeDB, err := sessionServer(*dbURL, *listen, *logTo, *cacheTTL)
	if err != nil {
		return err
	}
	defer closeDB()
	f, err := os.Create(*profile)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := handler.Start(ctx); err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	fmt.Fprintf(out, "serving on http://%s for %s, profiling to %s\n", handler.Addr(), *dur, *profile)
	select {
	case <-ctx.Done():
	case <-time.After(*dur):
	}
	pprof.StopCPUProfile()
	if *memProfile != "" {
		if err := writeAllocProfile(*memProfile); err != nil {
			return err
		}
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return handler.Stop(stopCtx)
}

// writeAllocProfile writes every allocation since the server was built
// (pprof's allocs profile), to count what a request allocates: go tool
// pprof -sample_index=alloc_space. A collection first, so the profile holds
// the allocations of the last cycle too.
func writeAllocProfile(path string) error {
	runtime.GC()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// sessionServer builds the HTTP server with the session route backed by the
// real store. Routes needing other use cases are not wired.
func sessionServer(dbURL, listen, logTo string, cacheTTL time.Duration) (*httpapi.Server, func(), error) {
	sc, err := store.ParseDatabaseURL(dbURL, os.TempDir())
	if err != nil || sc.Dialect != store.Postgres {
		return nil, nil, fmt.Errorf("-database-url must be a PostgreSQL URL: %v", err)
	}
	sc.SessionCache = store.CacheConfig{TTL: cacheTTL, MaxEntries: 100_000, MaxBytes: 64 << 20}
	db, err := store.Open(sc)
	if err != nil {
		return nil, nil, err
	}
	db.StartChangeListener(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	logOut, closeLog := io.Discard, func() {}
	if logTo != "" {
		lf, err := os.Create(logTo)
		if err != nil {
			_ = db.Close()
			return nil, nil, err
		}
		logOut, closeLog = lf, func() { _ = lf.Close() }
	}
	log := logging.New(logOut, slog.LevelInfo)
	cfg := sessionConfig(listen)
	engine, err := sessionRouter(db, cfg, log)
	if err != nil {
		_ = db.Close()
		closeLog()
		return nil, nil, err
	}
	return httpapi.NewServer(cfg, engine, log), func() { _ = db.Close(); closeLog() }, nil
}

// sessionConfig is the HTTP configuration `authbff serve` derives from
// LISTEN_ADDR and an http AUTH_URL on that address.
func sessionConfig(listen string) httpapi.Config {
	public, _ := url.Parse("http://" + listen + "/api/auth")
	return httpapi.Config{ListenAddr: listen, PublicURL: public, ShutdownTimeout: 5 * time.Second,
		Secrets: [][]byte{[]byte("authbff-load-profile-secret-0123456789")}}
}

// sessionRouter is authbff's gin router with GET /session wired to the
// session use case on db.
func sessionRouter(db *store.DB, cfg httpapi.Config, log *slog.Logger) (*gin.Engine, error) {
	h := httpapi.Handlers{
		Provider:   httpapi.ProviderInfo{ID: "keycloak", Name: "Keycloak"},
		GetSession: application.NewGetSessionHandler(store.NewSessionStore(db), domain.DefaultSessionPolicy(), application.SystemClock),
	}
	return httpapi.NewRouter(cfg, h, log)
}
