package logging

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"
)

// Access is what the access log records of one request.
type Access struct {
	Time            time.Time
	Level           slog.Level // Info, Error for a 5xx answer
	RequestID       string
	Method          string
	Path            string // never the query: it can carry an authorization code
	Status          int
	Duration        time.Duration
	ClientIP        string
	Bytes           int
	ClientRequestID string // "" when none was sent or it was not safe to log
	Error           string // "" when the request recorded none
}

// WriteAccess logs a as one "request" record through h. On authbff's own
// handler (New) the line is built by hand, field by field, and written in
// one call: every request pays for it, and slog's general path (attribute
// kinds, key escaping, a float through encoding/json) costs several times
// as much. The line is byte for byte what slog's JSONHandler writes for the
// same record (FuzzAccessLineMatchesSlog holds it to that); any value that
// would need escaping, and any other handler, takes slog's path.
func WriteAccess(ctx context.Context, h slog.Handler, a Access) {
	if !h.Enabled(ctx, a.Level) {
		return
	}
	if fast, ok := h.(*handler); ok {
		bp := lineBuffers.Get().(*[]byte)
		line, ok := a.appendLine((*bp)[:0])
		if ok {
			_, _ = fast.out.Write(line)
		}
		if cap(line) <= maxPooledLine { // a rare huge line is not kept for every later one
			*bp = line
			lineBuffers.Put(bp)
		}
		if ok {
			return
		}
	}
	_ = h.Handle(ctx, a.record())
}

// record is a as the slog record the fast path's line reproduces.
func (a Access) record() slog.Record {
	rec := slog.NewRecord(a.Time, a.Level, "request", 0)
	rec.AddAttrs(
		slog.String("request_id", a.RequestID),
		slog.String("method", a.Method),
		slog.String("path", a.Path),
		slog.Int("status", a.Status),
		slog.Float64("duration_ms", durationMS(a.Duration)),
		slog.String("client_ip", a.ClientIP),
		slog.Int("bytes", a.Bytes),
	)
	if a.ClientRequestID != "" {
		rec.AddAttrs(slog.String("client_request_id", a.ClientRequestID))
	}
	if a.Error != "" {
		rec.AddAttrs(slog.String("error", a.Error))
	}
	return rec
}

// durationMS is the duration in milliseconds to the microsecond.
func durationMS(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

var lineBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// maxPooledLine is the largest buffer kept for reuse (slog's own bound).
const maxPooledLine = 16 << 10

// appendLine appends a's line as slog's JSONHandler would write it. It
// reports false, leaving the line to slog, when a value is outside what it
// writes by hand: a string with a byte JSON escapes (a quote, a backslash,
// a control character, anything not ASCII), a zero time (slog leaves it
// out) or one whose year is not four digits, a duration whose milliseconds encoding/json writes with an
// exponent.
func (a Access) appendLine(b []byte) ([]byte, bool) {
	if y := a.Time.Year(); a.Time.IsZero() || y < 0 || y >= 10000 {
		return b, false
	}
	ms := durationMS(a.Duration)
	if ms != 0 && (ms < 1e-6 || ms >= 1e21) {
		return b, false
	}
	if !plain(a.RequestID) || !plain(a.Method) || !plain(a.Path) || !plain(a.ClientIP) ||
		!plain(a.ClientRequestID) || !plain(a.Error) {
		return b, false
	}
	b = append(b, `{"time":"`...)
	b = a.Time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","level":"`...)
	b = append(b, a.Level.String()...)
	b = append(b, `","msg":"request","request_id":"`...)
	b = append(b, a.RequestID...)
	b = append(b, `","method":"`...)
	b = append(b, a.Method...)
	b = append(b, `","path":"`...)
	b = append(b, a.Path...)
	b = append(b, `","status":`...)
	b = strconv.AppendInt(b, int64(a.Status), 10)
	b = append(b, `,"duration_ms":`...)
	b = strconv.AppendFloat(b, ms, 'f', -1, 64)
	b = append(b, `,"client_ip":"`...)
	b = append(b, a.ClientIP...)
	b = append(b, `","bytes":`...)
	b = strconv.AppendInt(b, int64(a.Bytes), 10)
	if a.ClientRequestID != "" {
		b = append(b, `,"client_request_id":"`...)
		b = append(b, a.ClientRequestID...)
		b = append(b, '"')
	}
	if a.Error != "" {
		b = append(b, `,"error":"`...)
		b = append(b, a.Error...)
		b = append(b, '"')
	}
	return append(b, "}\n"...), true
}

// plain reports whether JSON writes s as it is: printable ASCII without a
// quote or a backslash.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
