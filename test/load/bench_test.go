package main

import (
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authbff/authbff/adapters/store"
)

// BenchmarkSessionHandler measures GET /api/auth/session in-process: authbff's
// gin router and middleware (access log discarded), the session use case and
// the PostgreSQL store, without the network between client and server. Run
// with -cpuprofile to see where a request's time goes.
func BenchmarkSessionHandler(b *testing.B) {
	benchmarkSessionHandler(b, store.CacheConfig{})
}

// BenchmarkSessionHandlerCached is BenchmarkSessionHandler with the session
// cache on and a hot set of 1 000 sessions, each request carrying the CSRF
// and callback-URL cookies a browser sends back: the path a cache hit takes.
func BenchmarkSessionHandlerCached(b *testing.B) {
	benchmarkSessionHandler(b, store.CacheConfig{TTL: time.Hour, MaxEntries: 10_000, MaxBytes: 64 << 20})
}

func benchmarkSessionHandler(b *testing.B, cache store.CacheConfig) {
	const sessions = 10_000
	url := seededDatabase(b, sessions)
	cfg, err := store.ParseDatabaseURL(url, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	cfg.SessionCache = cache
	db, err := store.Open(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	hot := sessions
	if cache.Enabled() {
		db.StartChangeListener(slog.New(slog.NewJSONHandler(io.Discard, nil)))
		hot = 1_000
	}
	engine, err := sessionRouter(db, sessionConfig("127.0.0.1:4000"), slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	// The cookies the first answer sets, as a browser sends them back.
	jar := ""
	first := httptest.NewRecorder()
	engine.ServeHTTP(first, httptest.NewRequest(http.MethodGet, "http://127.0.0.1:4000/api/auth/session", nil))
	for _, c := range first.Result().Cookies() {
		jar += "; " + c.Name + "=" + c.Value
	}
	if cache.Enabled() { // warm: every hot session read once, once the listener listens
		deadline := time.Now().Add(10 * time.Second)
		for i := 0; i < hot; i++ {
			req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:4000/api/auth/session", nil)
			req.Header.Set("Cookie", defaultCookie+"="+liveToken(i)+jar)
			engine.ServeHTTP(httptest.NewRecorder(), req)
			if i == 0 && time.Now().Before(deadline) && !db.SessionCacheServing() {
				i--
				time.Sleep(10 * time.Millisecond)
			}
		}
	}
	var worker atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		rng := rand.New(rand.NewPCG(1, worker.Add(1)))
		for pb.Next() {
			req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:4000/api/auth/session", nil)
			req.Header.Set("Cookie", defaultCookie+"="+liveToken(rng.IntN(hot))+jar)
			rec := httptest.NewRecorder()
			engine.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK || rec.Body.String() == "null" {
				b.Fatalf("GET /session = %d %s", rec.Code, rec.Body)
			}
		}
	})
}
