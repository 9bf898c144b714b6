package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// Server is the HTTP server with a listen-then-serve start and a graceful stop.
type Server struct {
	srv *http.Server
	cfg Config
	log *slog.Logger
	ln  net.Listener
}

// NewServer returns a server for engine. Timeouts bound slow clients; the
// write timeout is generous because proxied responses stream.
func NewServer(cfg Config, engine *gin.Engine, log *slog.Logger) *Server {
	return &Server{cfg: cfg, log: log, srv: &http.Server{
		Addr:              cfg.ListenAddr,
		Handler:           engine,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    MaxHeaderBytes, // plus Go's 4096-byte slack; headerLimit is exact
	}}
}

// Start listens, so a taken port fails start-up, then serves in a goroutine.
func (s *Server) Start(context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.ListenAddr)
	if err != nil {
		return err
	}
	s.ln = ln
	s.log.Info("listening", "addr", ln.Addr().String(), "public_url", s.cfg.Origin()+s.cfg.BasePath())
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("server stopped", "error", err)
		}
	}()
	return nil
}

// Stop lets in-flight requests finish within the shutdown timeout.
func (s *Server) Stop(ctx context.Context) error {
	timeout := s.cfg.ShutdownTimeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return s.srv.Shutdown(ctx)
}

// Addr returns the address the server listens on (after Start).
func (s *Server) Addr() string {
	if s.ln == nil {
		return s.cfg.ListenAddr
	}
	return s.ln.Addr().String()
}
