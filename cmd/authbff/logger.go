package main

import (
	"io"
	"log/slog"

	"github.com/authbff/authbff/adapters/logging"
)

// newLogger returns the JSON logger. AUTH_DEBUG turns on debug level. No
// handler anywhere logs secrets or tokens, so debug is safe to turn on.
func newLogger(cfg Config, w io.Writer) *slog.Logger {
	level := slog.LevelInfo
	if cfg.Debug {
		level = slog.LevelDebug
	}
	return logging.New(w, level)
}
