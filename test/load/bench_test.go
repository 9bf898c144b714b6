package main

import (
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/authbff/authbff/adapters/store"
)

// BenchmarkSessionHandler measures GET /api/auth/session in-process: authbff's
// gin router and middleware (access log discarded), the session use case and
// the PostgreSQL store, without the network between client and server. Run
// with -cpuprofile to see where a request's time goes.
func BenchmarkSessionHandler(b *testing.B) {
	url := seededDatabase(b, 10_000)
	cfg, err := store.ParseDatabaseURL(url, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	db, err := store.Open(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	engine, err := sessionRouter(db, sessionConfig("127.0.0.1:4000"), slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	var worker atomic.Uint64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		rng := rand.New(rand.NewPCG(1, worker.Add(1)))
		for pb.Next() {
			req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:4000/api/auth/session", nil)
			req.Header.Set("Cookie", defaultCookie+"="+liveToken(rng.IntN(10_000)))
			rec := httptest.NewRecorder()
			engine.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK || rec.Body.String() == "null" {
				b.Fatalf("GET /session = %d %s", rec.Code, rec.Body)
			}
		}
	})
}
