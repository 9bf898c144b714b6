// Package logging builds authbff's JSON logger and writes the one record
// every request makes, the access-log line, without going through slog's
// general formatting. Like httpshared it uses the standard library only,
// so any adapter and cmd may import it.
package logging

import (
	"io"
	"log/slog"
	"sync"
)

// New returns the JSON logger authbff writes to w: slog's JSONHandler, with
// the access-log fast path of WriteAccess. Every record is one Write of one
// whole line, so lines from both paths never interleave.
func New(w io.Writer, level slog.Leveler) *slog.Logger {
	out := &lockedWriter{w: w}
	return slog.New(&handler{JSONHandler: slog.NewJSONHandler(out, &slog.HandlerOptions{Level: level}), out: out})
}

// handler is slog's JSONHandler plus a writer WriteAccess can write whole
// lines to. A handler derived from it (WithAttrs, WithGroup) is a plain
// JSONHandler: access lines through it take slog's path.
type handler struct {
	*slog.JSONHandler
	out *lockedWriter
}

// lockedWriter serialises the JSONHandler's writes with WriteAccess's (the
// JSONHandler's own lock covers only its own writes).
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
