package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// upstreamCmd serves a minimal backend API for the proxy measurement: every
// request gets 200 and a small JSON body, after checking it carries a
// bearer token (what authbff adds) when -require-bearer is set.
func upstreamCmd(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("upstream-serve", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:4300", "loopback address to serve on")
	bearer := fs.Bool("require-bearer", false, "answer 401 to requests without Authorization: Bearer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	body := []byte(`{"ok":true}`)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if *bearer && len(r.Header.Get("Authorization")) < len("Bearer x") {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	fmt.Fprintf(out, "upstream serving on http://%s\n", ln.Addr())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
