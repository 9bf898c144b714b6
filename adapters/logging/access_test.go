package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// slogLine is what slog's own JSONHandler writes for a.
func slogLine(t testing.TB, a Access) string {
	var buf bytes.Buffer
	if err := slog.NewJSONHandler(&buf, nil).Handle(context.Background(), a.record()); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// fastLine is what New's handler writes for a through WriteAccess.
func fastLine(a Access) string {
	var buf bytes.Buffer
	WriteAccess(context.Background(), New(&buf, slog.LevelInfo).Handler(), a)
	return buf.String()
}

func sample() Access {
	return Access{
		Time: time.Date(2026, 12, 1, 18, 41, 26, 327694573, time.UTC), Level: slog.LevelInfo,
		RequestID: "8a31aba3a5a9b377c6d04eb7", Method: "GET", Path: "/api/auth/session", Status: 200,
		Duration: 1234 * time.Microsecond, ClientIP: "127.0.0.1", Bytes: 446,
	}
}

func TestAccessLineIsSlogsLine(t *testing.T) {
	local := time.FixedZone("CET", 3600)
	cases := map[string]func(*Access){
		"plain":             func(*Access) {},
		"error level":       func(a *Access) { a.Level = slog.LevelError; a.Status = 503; a.Error = "database unavailable" },
		"client request id": func(a *Access) { a.ClientRequestID = "abc-123.x_y" },
		"zero duration":     func(a *Access) { a.Duration = 0 },
		"sub-microsecond":   func(a *Access) { a.Duration = 999 },
		"long duration":     func(a *Access) { a.Duration = 3*time.Hour + 7*time.Microsecond },
		"local time zone":   func(a *Access) { a.Time = a.Time.In(local) },
		"whole second":      func(a *Access) { a.Time = a.Time.Truncate(time.Second) },
		"monotonic clock":   func(a *Access) { a.Time = time.Now() },
		"quote in path":     func(a *Access) { a.Path = `/api/"x"` },
		"unicode path":      func(a *Access) { a.Path = "/api/\u00e9\u2028" },
		"control in error":  func(a *Access) { a.Error = "line\nbreak" },
		"invalid utf-8":     func(a *Access) { a.Path = "/\xff" },
		"html characters":   func(a *Access) { a.Path = "/a<b>&c" },
		"zero time":         func(a *Access) { a.Time = time.Time{} },
		"year 10000":        func(a *Access) { a.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
	}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			a := sample()
			change(&a)
			want, got := slogLine(t, a), fastLine(a)
			if got != want {
				t.Fatalf("line differs from slog's:\n got %s\nwant %s", got, want)
			}
		})
	}
}

func TestAccessLineTakesTheFastPathForAPlainRequest(t *testing.T) {
	if _, ok := sample().appendLine(nil); !ok {
		t.Fatal("a plain request took slog's path")
	}
	a := sample()
	a.Path = `/"`
	if _, ok := a.appendLine(nil); ok {
		t.Fatal("a path with a quote was written by hand")
	}
}

func TestAccessLineRespectsTheLevel(t *testing.T) {
	var buf bytes.Buffer
	h := New(&buf, slog.LevelError).Handler()
	WriteAccess(context.Background(), h, sample())
	if buf.Len() != 0 {
		t.Fatalf("an info line was written at level error: %s", buf.String())
	}
	a := sample()
	a.Level = slog.LevelError
	WriteAccess(context.Background(), h, a)
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil || rec["level"] != "ERROR" {
		t.Fatalf("error line = %q (%v)", buf.String(), err)
	}
}

// TestAccessLinesAndOtherRecordsDoNotInterleave writes access lines and
// ordinary records from many goroutines to one writer: every line must be
// one whole JSON object (run under -race, it also checks the writer is
// never written to by two at once).
func TestAccessLinesAndOtherRecordsDoNotInterleave(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, slog.LevelInfo)
	done := make(chan struct{})
	for g := 0; g < 8; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; i < 200; i++ {
				if g%2 == 0 {
					WriteAccess(context.Background(), log.Handler(), sample())
				} else {
					log.Info("other", "i", i)
				}
			}
		}()
	}
	for g := 0; g < 8; g++ {
		<-done
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 1600 {
		t.Fatalf("%d lines, want 1600", len(lines))
	}
	for _, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Fatalf("not one JSON object: %q", l)
		}
	}
}

// FuzzAccessLineMatchesSlog holds the hand-built line to slog's: for any
// request values, WriteAccess on New's handler writes exactly what slog's
// JSONHandler writes for the same record.
func FuzzAccessLineMatchesSlog(f *testing.F) {
	f.Add("8a31aba3a5a9b377c6d04eb7", "GET", "/api/auth/session", 200, int64(1234567), "127.0.0.1", 446, "", "", int64(1796150486327694573))
	f.Add("id", "POST", "/api/auth/callback/keycloak", 503, int64(0), "::1", 0, "client-1", "unavailable", int64(0))
	f.Add("x", "GET", "/a\"b\\c\u2028\xff", 500, int64(999), "10.0.0.1", -1, "", "boom\n", int64(-1))
	f.Fuzz(func(t *testing.T, id, method, path string, status int, durNS int64, ip string, size int,
		clientID, errText string, unixNS int64) {
		a := Access{Time: time.Unix(0, unixNS).UTC(), Level: slog.LevelInfo, RequestID: id, Method: method, Path: path,
			Status: status, Duration: time.Duration(durNS), ClientIP: ip, Bytes: size, ClientRequestID: clientID, Error: errText}
		if status >= 500 {
			a.Level = slog.LevelError
		}
		if want, got := slogLine(t, a), fastLine(a); got != want {
			t.Fatalf("line differs from slog's:\n got %s\nwant %s", got, want)
		}
	})
}
