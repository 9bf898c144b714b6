package browser

import (
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// appPage is the app's page: the bundled next-auth/react client. Its CSP is
// an app's strict one: the client talks to its own origin only.
const appPage = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>app</title></head>
<body><div id="root"></div><script src="/app.js"></script></body></html>`

const goodbyePage = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>goodbye</title></head>
<body><p id="goodbye">Signed out.</p></body></html>`

// front is the app's origin as a Next.js deployment has it: the app's pages,
// and /api/auth/* and /api/proxy/* rewritten to authbff.
type front struct {
	Origin string
	ln     net.Listener
	// observe, when set before serve, sees every /api/auth/ and
	// /api/proxy/ request and the status the browser got for it.
	observe func(r *http.Request, status int)
}

// newFront listens on a free loopback port; serve starts it once authbff's
// address is known (authbff needs the front origin as AUTH_URL first).
func newFront(t *testing.T) *front {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	return &front{Origin: "http://" + ln.Addr().String(), ln: ln}
}

// newTLSFront is newFront over https with cert: the browser sees
// https://127.0.0.1:port, and the front forwards to authbff over http as a
// TLS-terminating load balancer does.
func newTLSFront(t *testing.T, cert tls.Certificate) *front {
	return newTLSFrontAt(t, cert, "127.0.0.1:0")
}

// newTLSFrontAt is newTLSFront listening on addr.
func newTLSFrontAt(t *testing.T, cert tls.Certificate, addr string) *front {
	ln, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	f := &front{ln: tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})}
	f.Origin = "https://" + ln.Addr().String()
	return f
}

// statusWriter remembers the status written through it.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (f *front) serve(t *testing.T, bffBase string) {
	target, err := url.Parse(bffBase)
	require.NoError(t, err)
	rewrite := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Host = r.In.Host // as Next.js rewrites do: authbff sees the app's host
	}, ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) {
		// A request the browser gave up on (it navigated away) is no
		// failure of authbff's; a real one shows as the page's 502.
		w.WriteHeader(http.StatusBadGateway)
	}}
	var toBFF http.Handler = rewrite
	if f.observe != nil {
		toBFF = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sw := &statusWriter{ResponseWriter: w}
			rewrite.ServeHTTP(sw, r)
			f.observe(r, sw.status)
		})
	}
	mux := http.NewServeMux()
	mux.Handle("/api/auth/", toBFF)
	mux.Handle("/api/proxy/", toBFF)
	page := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
			_, _ = w.Write([]byte(body))
		}
	}
	mux.Handle("GET /app", page(appPage))
	mux.Handle("GET /goodbye", page(goodbyePage))
	mux.HandleFunc("GET /app.js", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		_, _ = w.Write(pageJS)
	})
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	srv := &http.Server{Handler: mux}
	go func() { _ = srv.Serve(f.ln) }()
	t.Cleanup(func() { _ = srv.Close() })
}

// upstream is the backend API behind /api/proxy: it records the headers
// authbff adds.
type upstream struct {
	srv  *httptest.Server
	mu   sync.Mutex
	seen []http.Header
}

func newUpstream(t *testing.T) *upstream {
	u := &upstream{}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.seen = append(u.seen, r.Header.Clone())
		u.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"path":"` + r.URL.Path + `"}`))
	}))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *upstream) last(t *testing.T) http.Header {
	u.mu.Lock()
	defer u.mu.Unlock()
	require.NotEmpty(t, u.seen, "the backend saw no request")
	return u.seen[len(u.seen)-1]
}
