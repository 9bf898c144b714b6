package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/joho/godotenv"

	"github.com/authbff/authbff/adapters/httpapi"
	"github.com/authbff/authbff/adapters/keycloak"
	"github.com/authbff/authbff/adapters/store"
	"github.com/authbff/authbff/application"
	"github.com/authbff/authbff/domain"
)

// Config is everything authbff reads from its environment, validated. This
// file is the only place that reads environment variables.
type Config struct {
	Production bool
	Debug      bool
	DataDir    string
	// Secrets are AUTH_SECRET's values: the first encrypts, all decrypt.
	Secrets          [][]byte
	GeneratedSecret  bool // a development secret was generated into DataDir
	Store            store.Config
	HTTP             httpapi.Config
	Policy           domain.SessionPolicy
	MigrateOnStart   bool
	CleanupBatchSize int
	// CleanupInterval is how often serve runs cleanup; 0 disables the job.
	CleanupInterval time.Duration
	// Upstream is the backend API the proxy forwards to; nil disables it.
	Upstream *url.URL
	// ProxyRules are per-path role requirements for proxied calls.
	ProxyRules []application.PathRule
	// Keycloak is the configured IdP; nil means the embedded development
	// provider (refused in production).
	Keycloak *keycloak.Config
	// IdPMaxConcurrency bounds concurrent token requests to the IdP per
	// process; beyond it callers get 503 at once.
	IdPMaxConcurrency int
	// MaxPendingSignIns caps the sign-ins started and not yet finished,
	// across every replica (each lives 15 minutes at most).
	MaxPendingSignIns int
}

// loadDotEnv reads .env into the process environment without overriding
// variables that are already set, as Next.js does.
func loadDotEnv() error {
	if _, err := os.Stat(".env"); err != nil {
		return nil
	}
	if err := godotenv.Load(".env"); err != nil {
		return fmt.Errorf(".env: %w", err)
	}
	return nil
}

// LoadConfig reads and validates the configuration. Names follow the NextAuth
// app authbff replaces (DATABASE_URL, AUTH_SECRET, AUTH_URL, AUTH_DEBUG, ...),
// with NEXTAUTH_* accepted as aliases. Each section loader records its
// problems and carries on, so the error lists every bad variable at once.
func LoadConfig(lookup env) (Config, error) { return loadConfig(lookup, true) }

// loadConfig is LoadConfig; without generateSecret a missing development
// secret is not generated, so an operator command (which seals nothing)
// leaves no data folder behind.
func loadConfig(lookup env, generateSecret bool) (Config, error) {
	v := vars{lookup: lookup, errs: &configError{}}
	var cfg Config
	loadMode(v, &cfg)
	loadListen(v, &cfg)
	loadPublicURL(v, &cfg)
	loadDatabase(v, &cfg)
	loadSessionPolicy(v, &cfg)
	loadCleanup(v, &cfg)
	loadIdentityProvider(v, &cfg)
	loadBackend(v, &cfg)
	loadHTTPOptions(v, &cfg)

	// A development secret is generated into the data folder, so only once
	// the rest is valid; production never generates one, so its secrets are
	// checked together with everything else.
	if len(v.errs.problems) > 0 && !cfg.Production {
		return cfg, v.errs
	}
	secrets, generated, err := loadSecrets(v.get, cfg.Production, cfg.DataDir, generateSecret)
	if err != nil {
		v.errs.add("AUTH_SECRET", "%v", err)
	}
	if len(v.errs.problems) > 0 {
		return cfg, v.errs
	}
	cfg.Secrets, cfg.GeneratedSecret = secrets, generated
	cfg.HTTP.Secrets = secrets
	return cfg, nil
}

// loadMode reads the environment name, the debug flag and the data folder.
func loadMode(v vars, cfg *Config) {
	envName, envVar := v.get("AUTH_ENV", "NODE_ENV")
	switch strings.ToLower(envName) {
	case "production", "prod":
		cfg.Production = true
	case "", "development", "dev", "test":
	default:
		v.errs.add(envVar, "must be production or development, got %q", envName)
	}
	v.bool(&cfg.Debug, "AUTH_DEBUG")
	cfg.HTTP.Debug = cfg.Debug
	cfg.DataDir, _ = v.get("AUTH_DATA_DIR", "DATA_DIR")
	if cfg.DataDir == "" {
		cfg.DataDir = "data"
	}
}

// loadListen reads LISTEN_ADDR (host:port) or a bare PORT.
func loadListen(v vars, cfg *Config) {
	cfg.HTTP.ShutdownTimeout = 15 * time.Second
	listen, listenVar := v.get("LISTEN_ADDR")
	if listen != "" {
		if _, port, err := net.SplitHostPort(listen); err != nil || port == "" {
			v.errs.add(listenVar, "must be host:port, got %q", listen)
		}
		cfg.HTTP.ListenAddr = listen
		return
	}
	port, portVar := v.get("PORT")
	switch {
	case port != "":
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			v.errs.add(portVar, "must be a port number, got %q", port)
		}
		cfg.HTTP.ListenAddr = ":" + port
	case cfg.Production:
		cfg.HTTP.ListenAddr = ":4000"
	default:
		cfg.HTTP.ListenAddr = "127.0.0.1:4000"
	}
}

// loadPublicURL reads AUTH_URL (the public URL of /api/auth) and the proxies
// trusted to report the client's address. Without AUTH_URL outside
// production, the listen address stands in.
func loadPublicURL(v vars, cfg *Config) {
	rawURL, urlVar := v.get("AUTH_URL", "NEXTAUTH_URL")
	if rawURL == "" {
		if cfg.Production {
			v.errs.add("AUTH_URL", "required in production (the public https URL of /api/auth)")
			return
		}
		host := cfg.HTTP.ListenAddr
		if strings.HasPrefix(host, ":") || strings.HasPrefix(host, "0.0.0.0:") {
			host = "localhost" + host[strings.LastIndex(host, ":"):]
		}
		rawURL = "http://" + host + "/api/auth"
	}
	u, ok := parseHTTPURL(rawURL)
	if !ok {
		v.errs.add(urlVar, "must be an absolute http(s) URL, got %q", rawURL)
	} else {
		if u.Path == "" || u.Path == "/" {
			u.Path = "/api/auth"
		}
		u.RawQuery, u.Fragment = "", ""
		if cfg.Production && u.Scheme != "https" {
			v.errs.add(urlVar, "must be https in production, got %q", rawURL)
		}
		cfg.HTTP.PublicURL = u
	}
	if s, name := v.get("AUTH_TRUSTED_PROXIES"); s != "" {
		for _, p := range strings.Split(s, ",") {
			p = strings.TrimSpace(p)
			if net.ParseIP(p) == nil {
				if _, _, err := net.ParseCIDR(p); err != nil {
					v.errs.add(name, "%q is not an IP address or CIDR", p)
					continue
				}
			}
			cfg.HTTP.TrustedProxies = append(cfg.HTTP.TrustedProxies, p)
		}
	}
}

// loadDatabase reads DATABASE_URL (the embedded SQLite in the data folder
// when unset outside production), the pool settings and whether serve
// migrates on start.
func loadDatabase(v vars, cfg *Config) {
	dbURL, dbVar := v.get("DATABASE_URL")
	if dbURL == "" && cfg.Production {
		v.errs.add("DATABASE_URL", "required in production (the embedded SQLite is for development)")
	}
	sc, err := store.ParseDatabaseURL(dbURL, cfg.DataDir)
	if err != nil {
		v.errs.add(dbVar, "%v", err)
	}
	v.intRange(&sc.MaxOpenConns, 1, 1000, "an integer", "DB_POOL_SIZE", "DATABASE_POOL_SIZE")
	v.positiveDuration(&sc.PoolTimeout, "10s", "DB_POOL_TIMEOUT", "DATABASE_POOL_TIMEOUT")
	if cfg.Production && sc.Dialect == store.Postgres && insecurePostgres(sc.DSN) {
		v.errs.add(dbVar, "sslmode=disable is refused in production for a non-local database (use sslmode=verify-full)")
	}
	loadSessionCache(v, &sc.SessionCache, sc.Dialect)
	cfg.Store = sc
	cfg.MigrateOnStart = sc.Dialect == store.SQLite && !cfg.Production
	v.bool(&cfg.MigrateOnStart, "AUTH_MIGRATE_ON_START")
}

// loadSessionCache reads the bounds of the session read cache: on by
// default on PostgreSQL, 5 s at most between a change made outside the
// cache's reach and its effect (other replicas' changes arrive through
// LISTEN/NOTIFY within moments); AUTH_SESSION_CACHE_TTL=0 turns it off. Off
// by default on SQLite: nothing announces another process's change there
// (`authbff sessions revoke` beside `serve`), and a read is an in-process
// query anyway.
func loadSessionCache(v vars, c *store.CacheConfig, dialect string) {
	*c = store.CacheConfig{TTL: 5 * time.Second, MaxEntries: 100_000, MaxBytes: 64 << 20}
	if dialect == store.SQLite {
		c.TTL = 0
	}
	if s, name := v.get("AUTH_SESSION_CACHE_TTL"); s != "" {
		d, err := parseDuration(s)
		if err != nil || d < 0 || d > time.Minute {
			v.errs.add(name, "must be a duration from 0 (off) to 1m, got %q", s)
		} else {
			c.TTL = d
		}
	}
	v.intRange(&c.MaxEntries, 1, 10_000_000, "an integer", "AUTH_SESSION_CACHE_MAX_ENTRIES")
	mb := int(c.MaxBytes >> 20)
	v.intRange(&mb, 1, 65536, "a number of MiB", "AUTH_SESSION_CACHE_MAX_MB")
	c.MaxBytes = int64(mb) << 20
}

// loadSessionPolicy reads the session lifetimes (Auth.js maxAge / updateAge,
// in seconds or Go durations) and checks them against each other.
func loadSessionPolicy(v vars, cfg *Config) {
	cfg.Policy = domain.DefaultSessionPolicy()
	v.positiveDuration(&cfg.Policy.MaxAge, "8h", "AUTH_SESSION_MAX_AGE")
	v.positiveDuration(&cfg.Policy.UpdateAge, "8h", "AUTH_SESSION_UPDATE_AGE")
	v.positiveDuration(&cfg.Policy.AbsoluteLifetime, "8h", "AUTH_SESSION_ABSOLUTE_MAX_AGE")
	if !v.set("AUTH_SESSION_ABSOLUTE_MAX_AGE") && cfg.Policy.AbsoluteLifetime < cfg.Policy.MaxAge {
		cfg.Policy.AbsoluteLifetime = 3 * cfg.Policy.MaxAge
	}
	var ve *domain.ValidationError
	if err := cfg.Policy.Validate(); errors.As(err, &ve) {
		v.errs.add(policyVar(ve.Field), "%s", ve.Reason)
	}
}

// loadCleanup reads how often serve deletes expired rows, and how many at a time.
func loadCleanup(v vars, cfg *Config) {
	cfg.CleanupInterval = 10 * time.Minute
	if s, name := v.get("AUTH_CLEANUP_INTERVAL"); s != "" {
		d, err := parseDuration(s)
		if err != nil || d < 0 || (d > 0 && d < time.Second) {
			v.errs.add(name, "must be a duration of at least 1s (or 0 to disable), got %q", s)
		}
		cfg.CleanupInterval = d
	}
	cfg.CleanupBatchSize = 1000
	v.intRange(&cfg.CleanupBatchSize, 1, 5000, "an integer", "AUTH_CLEANUP_BATCH_SIZE")
}

// loadIdentityProvider reads the Keycloak client. In production every
// missing part is reported at once, issuer or not.
func loadIdentityProvider(v vars, cfg *Config) {
	issuer, issuerVar := v.get("AUTH_KEYCLOAK_ISSUER", "KEYCLOAK_ISSUER")
	clientID, idVar := v.get("AUTH_KEYCLOAK_ID", "KEYCLOAK_CLIENT_ID")
	clientSecret, _ := v.get("AUTH_KEYCLOAK_SECRET", "KEYCLOAK_CLIENT_SECRET")
	if cfg.Production {
		if issuer == "" {
			v.errs.add("AUTH_KEYCLOAK_ISSUER", "required in production (the embedded development IdP is refused)")
		}
		if clientSecret == "" {
			v.errs.add("AUTH_KEYCLOAK_SECRET", "required in production (a confidential client)")
		}
	}
	switch {
	case issuer == "" && clientID != "" && !cfg.Production:
		v.errs.add("AUTH_KEYCLOAK_ISSUER", "required when %s is set", idVar)
	case issuer == "" && cfg.Production && clientID == "":
		v.errs.add("AUTH_KEYCLOAK_ID", "required in production")
	case issuer != "":
		if u, ok := parseHTTPURL(issuer); !ok {
			v.errs.add(issuerVar, "must be an absolute http(s) URL such as https://keycloak.example.com/realms/crm, got %q", issuer)
		} else if cfg.Production && u.Scheme != "https" {
			v.errs.add(issuerVar, "must be https in production")
		}
		if clientID == "" {
			v.errs.add("AUTH_KEYCLOAK_ID", "required when AUTH_KEYCLOAK_ISSUER is set")
		}
		cfg.Keycloak = &keycloak.Config{Issuer: strings.TrimSuffix(issuer, "/"), ClientID: clientID, ClientSecret: clientSecret}
	}
	cfg.IdPMaxConcurrency = application.DefaultIdPMaxConcurrency
	v.intRange(&cfg.IdPMaxConcurrency, 1, 10000, "concurrent IdP token requests", "AUTH_IDP_MAX_CONCURRENCY")
	if s, name := v.get("AUTH_POST_LOGOUT_REDIRECT_URL"); s != "" {
		if _, ok := parseHTTPURL(s); !ok {
			v.errs.add(name, "must be an absolute http(s) URL, got %q", s)
		}
		cfg.HTTP.PostLogoutRedirectURL = s
	}
}

// loadBackend reads the backend API the proxy forwards to and its per-path
// role rules.
func loadBackend(v vars, cfg *Config) {
	if s, name := v.get("BACKEND_API_URL", "NEXT_PUBLIC_SPRING_API_URL", "SPRING_API_URL"); s != "" {
		if u, ok := parseHTTPURL(s); !ok || u.RawQuery != "" {
			v.errs.add(name, "must be an absolute http(s) URL without a query, got %q", s)
		} else {
			cfg.Upstream = u
		}
	}
	if s, name := v.get("AUTH_PROXY_RULES"); s != "" {
		rules, err := parseProxyRules(s)
		if err != nil {
			v.errs.add(name, "%v", err)
		}
		cfg.ProxyRules = rules
	}
}

// loadHTTPOptions reads the switches and limits of the HTTP surface.
func loadHTTPOptions(v vars, cfg *Config) {
	tokenEndpoint := true
	v.bool(&tokenEndpoint, "AUTH_TOKEN_ENDPOINT")
	cfg.HTTP.DisableTokenEndpoint = !tokenEndpoint
	v.intRange(&cfg.HTTP.SignInRateLimit, 1, 100000, "sign-ins per second per client IP", "AUTH_SIGNIN_RATE_LIMIT")
	cfg.MaxPendingSignIns = application.DefaultMaxPendingSignIns
	v.intRange(&cfg.MaxPendingSignIns, 1, 10_000_000, "pending sign-ins", "AUTH_SIGNIN_MAX_PENDING")
	v.bool(&cfg.HTTP.AcceptLegacyCookies, "AUTH_ACCEPT_LEGACY_COOKIES")
	cfg.HTTP.MetricsToken, _ = v.get("AUTH_METRICS_TOKEN")
	v.intRange(&cfg.HTTP.TokenRateLimit, 1, 10000, "requests per second", "AUTH_TOKEN_RATE_LIMIT")
}

func policyVar(field string) string {
	switch field {
	case "MaxAge":
		return "AUTH_SESSION_MAX_AGE"
	case "UpdateAge":
		return "AUTH_SESSION_UPDATE_AGE"
	default:
		return "AUTH_SESSION_ABSOLUTE_MAX_AGE"
	}
}

// minSecretBytes is the least entropy accepted in production: 32 bytes, what
// `npx auth secret` / `openssl rand -base64 32` produce.
const minSecretBytes = 32

// loadSecrets reads AUTH_SECRET (a comma-separated list; the first encrypts,
// all decrypt) or AUTH_SECRET_1..AUTH_SECRET_3 as Auth.js allows for rotation.
// Without one outside production, a development secret is generated once
// (when generate is set) and kept in the data folder so sessions survive
// restarts.
func loadSecrets(get func(...string) (string, string), production bool, dataDir string, generate bool) ([][]byte, bool, error) {
	var raw []string
	if v, _ := get("AUTH_SECRET", "NEXTAUTH_SECRET"); v != "" {
		raw = strings.Split(v, ",")
	}
	for _, n := range []string{"AUTH_SECRET_1", "AUTH_SECRET_2", "AUTH_SECRET_3"} {
		if v, _ := get(n); v != "" {
			raw = append(raw, v)
		}
	}
	var out [][]byte
	for _, s := range raw {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if production && len(s) < minSecretBytes {
			return nil, false, fmt.Errorf("each secret must be at least %d characters in production (generate one with `openssl rand -base64 32`)", minSecretBytes)
		}
		out = append(out, []byte(s))
	}
	if len(out) > 0 {
		return out, false, nil
	}
	if production {
		return nil, false, errors.New("required in production (generate one with `openssl rand -base64 32`)")
	}
	path := filepath.Join(dataDir, "dev-secret")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= minSecretBytes {
		return [][]byte{[]byte(strings.TrimSpace(string(b)))}, true, nil
	}
	if !generate {
		return nil, false, nil
	}
	var b [32]byte
	_, _ = rand.Read(b[:])
	secret := base64.StdEncoding.EncodeToString(b[:])
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, false, fmt.Errorf("cannot create data folder for the development secret: %w", err)
	}
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return nil, false, fmt.Errorf("cannot store the development secret: %w", err)
	}
	return [][]byte{[]byte(secret)}, true, nil
}

// parseProxyRules reads "PREFIX=ROLE|ROLE;PREFIX=ROLE", e.g.
// "/admin=admin;/reports=admin|reports-viewer": calls under a prefix need one
// of its roles.
func parseProxyRules(v string) ([]application.PathRule, error) {
	var rules []application.PathRule
	for _, part := range strings.Split(v, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		prefix, roles, ok := strings.Cut(part, "=")
		prefix = strings.TrimSpace(prefix)
		if !ok || !strings.HasPrefix(prefix, "/") || strings.TrimSpace(roles) == "" {
			return nil, fmt.Errorf("rule %q must look like /path=role|role", part)
		}
		var names []string
		for _, r := range strings.Split(roles, "|") {
			if r = strings.TrimSpace(r); r != "" {
				names = append(names, r)
			}
		}
		rules = append(rules, application.PathRule{Prefix: prefix, Roles: names})
	}
	return rules, nil
}

// insecurePostgres reports a DSN that turns TLS off for a host that is not
// on this machine.
func insecurePostgres(dsn string) bool {
	u, err := url.Parse(dsn)
	if err != nil || u.Query().Get("sslmode") != "disable" {
		return false
	}
	host := u.Hostname()
	if host == "" || host == "localhost" || strings.HasPrefix(u.Query().Get("host"), "/") {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}
