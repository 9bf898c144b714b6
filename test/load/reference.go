package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// referenceCmd serves GET /api/auth/session the least a Go server can do it
// and still answer what authbff answers: net/http, a pgx pool, one prepared
// index lookup of the session by its token hash, and the same session JSON,
// Set-Cookie and security headers. It is the yardstick authbff's session
// read is measured against (`session-bench.sh yardsticks`); with -memory it
// answers the same bytes from memory without the database, the HTTP ceiling
// of this machine.
//
// The user's name, roles and organizations are read once at start-up, for
// every user: the reference models the lean path authbff aims at (everything
// the JSON needs in the one row it looks up), not a cache of sessions. Every
// session is still looked up and its expiry checked on every request.
func referenceCmd(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("reference-serve", flag.ContinueOnError)
	dbURL := fs.String("database-url", os.Getenv("DATABASE_URL"), "seeded authbff database (connection_limit sets the pool)")
	listen := fs.String("listen", "127.0.0.1:4200", "loopback address to serve on")
	memory := fs.Bool("memory", false, "answer one pre-rendered session from memory (the HTTP ceiling)")
	cookie := fs.String("cookie", defaultCookie, "session cookie name")
	joined := fs.Bool("joined", false, "look up with authbff's statement shape (session joined with its user and snapshot), to tell the statement's cost from the driver's")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfgPool, err := referencePool(*dbURL)
	if err != nil {
		return err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfgPool)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer pool.Close()
	profiles, err := loadProfiles(ctx, pool)
	if err != nil {
		return err
	}
	ref := &reference{pool: pool, profiles: profiles, cookie: *cookie, sql: lookupSQL}
	if *joined {
		ref.sql = joinedSQL
	}
	var h http.Handler = ref
	if *memory {
		body, err := ref.render(ctx, liveToken(0))
		if err != nil {
			return fmt.Errorf("render the ceiling's answer from seeded session 0: %w", err)
		}
		h = ceiling{body: body, cookie: *cookie}
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	fmt.Fprintf(out, "reference (memory=%t) serving on http://%s\n", *memory, ln.Addr())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// referencePool reads authbff's database URL (connection_limit is the pool
// size, as authbff reads it) into a pgx pool config that caches prepared
// statements per connection, pgx's default.
func referencePool(databaseURL string) (*pgxpool.Config, error) {
	size := int32(10)
	u := databaseURL
	if i := strings.Index(u, "?"); i >= 0 {
		q := u[i+1:]
		kept := []string{}
		for _, kv := range strings.Split(q, "&") {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "connection_limit":
				var n int32
				if _, err := fmt.Sscan(v, &n); err == nil && n > 0 {
					size = n
				}
			case "pool_timeout", "schema":
			default:
				kept = append(kept, kv)
			}
		}
		u = u[:i]
		if len(kept) > 0 {
			u += "?" + strings.Join(kept, "&")
		}
	}
	cfg, err := pgxpool.ParseConfig(u)
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	cfg.MaxConns, cfg.MinConns = size, size
	return cfg, nil
}

// profile is what the session JSON shows of a user.
type profile struct {
	id, name, email, image string
	roles                  []string
	orgs                   map[string]orgJSON
	orgList                []orgJSON
}

type orgJSON struct {
	ID       string `json:"id"`
	Alias    string `json:"alias"`
	Name     string `json:"name"`
	TenantID string `json:"tenantId"`
}

func loadProfiles(ctx context.Context, pool *pgxpool.Pool) (map[string]*profile, error) {
	out := map[string]*profile{}
	rows, err := pool.Query(ctx, `SELECT id, coalesce(name, ''), coalesce(email, ''), coalesce(image, '') FROM users`)
	if err != nil {
		return nil, fmt.Errorf("read users (is the database seeded?): %w", err)
	}
	for rows.Next() {
		p := &profile{orgs: map[string]orgJSON{}}
		if err := rows.Scan(&p.id, &p.name, &p.email, &p.image); err != nil {
			return nil, err
		}
		out[p.id] = p
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = pool.Query(ctx, `SELECT DISTINCT ur.user_id, r.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id ORDER BY 1, 2`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var uid, name string
		if err := rows.Scan(&uid, &name); err != nil {
			return nil, err
		}
		if p := out[uid]; p != nil {
			p.roles = append(p.roles, name)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = pool.Query(ctx, `SELECT uo.user_id, o.id, o.alias, coalesce(o.name, ''), coalesce(nullif(o.tenant_id, ''), o.alias)
		FROM user_organizations uo JOIN organizations o ON o.id = uo.organization_id ORDER BY 1, 3`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var uid string
		var o orgJSON
		if err := rows.Scan(&uid, &o.ID, &o.Alias, &o.Name, &o.TenantID); err != nil {
			return nil, err
		}
		if p := out[uid]; p != nil {
			p.orgs[o.ID] = o
			p.orgList = append(p.orgList, o)
		}
	}
	return out, rows.Err()
}

// reference answers GET /api/auth/session from one prepared statement.
type reference struct {
	pool     *pgxpool.Pool
	profiles map[string]*profile
	cookie   string
	sql      string
}

// lookupSQL is the one statement per request: an index lookup on
// sessions.token_hash. pgx prepares it once per connection.
const lookupSQL = `SELECT expires, user_id, coalesce(active_organization_id, '') FROM sessions WHERE token_hash = $1`

// joinedSQL has the shape of authbff's session read: the session with its
// user by primary key and the user's roles/organizations snapshot.
const joinedSQL = `SELECT s.expires, s.user_id, coalesce(s.active_organization_id, '') FROM sessions s
	JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND u.roles_view IS NOT NULL AND u.orgs_view IS NOT NULL`

type sessionJSON struct {
	User               userJSON  `json:"user"`
	Expires            string    `json:"expires"`
	Organizations      []orgJSON `json:"organizations"`
	ActiveOrganization *orgJSON  `json:"activeOrganization"`
}

type userJSON struct {
	ID    string   `json:"id"`
	Name  *string  `json:"name"`
	Email *string  `json:"email"`
	Image *string  `json:"image"`
	Roles []string `json:"roles"`
}

func (r *reference) render(ctx context.Context, token string) ([]byte, error) {
	sum := sha256.Sum256([]byte(token))
	var expires time.Time
	var uid, active string
	err := r.pool.QueryRow(ctx, r.sql, hex.EncodeToString(sum[:])).Scan(&expires, &uid, &active)
	if errors.Is(err, pgx.ErrNoRows) {
		return []byte("null"), nil
	}
	if err != nil {
		return nil, err
	}
	p := r.profiles[uid]
	if p == nil || !time.Now().Before(expires) {
		return []byte("null"), nil
	}
	s := sessionJSON{
		User: userJSON{ID: p.id, Name: nullable(p.name), Email: nullable(p.email), Image: nullable(p.image),
			Roles: append([]string{}, p.roles...)},
		Expires:       expires.UTC().Format("2006-01-02T15:04:05.000Z"),
		Organizations: append([]orgJSON{}, p.orgList...),
	}
	if o, ok := p.orgs[active]; ok {
		s.ActiveOrganization = &o
	}
	return json.Marshal(s)
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (r *reference) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.URL.Path != "/api/auth/session" {
		http.NotFound(w, req)
		return
	}
	c, err := req.Cookie(r.cookie)
	if err != nil {
		writeSession(w, []byte("null"), "", r.cookie)
		return
	}
	body, err := r.render(req.Context(), c.Value)
	if err != nil {
		http.Error(w, `{"error":{"code":"unavailable"}}`, http.StatusServiceUnavailable)
		return
	}
	writeSession(w, body, c.Value, r.cookie)
}

// ceiling answers every request with the same pre-rendered session.
type ceiling struct {
	body   []byte
	cookie string
}

func (c ceiling) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	v := ""
	if ck, err := req.Cookie(c.cookie); err == nil {
		v = ck.Value
	}
	writeSession(w, c.body, v, c.cookie)
}

// writeSession writes the headers authbff sends with a session (security
// headers, no-store, the re-sent session cookie) and the body.
func writeSession(w http.ResponseWriter, body []byte, token, cookie string) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "private, no-cache, no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Expires", "0")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "frame-ancestors 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	if token != "" {
		http.SetCookie(w, &http.Cookie{Name: cookie, Value: token, Path: "/", HttpOnly: true,
			SameSite: http.SameSiteLaxMode, Expires: time.Now().Add(8 * time.Hour)})
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}
