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
}

// env is the lookup function; tests replace it.
type env func(string) (string, bool)

// configError collects every invalid variable so one start-up shows them all.
type configError struct{ problems []string }

func (e *configError) add(name, format string, args ...any) {
	e.problems = append(e.problems, name+": "+fmt.Sprintf(format, args...))
}

func (e *configError) Error() string {
	return "invalid configuration:\n  " + strings.Join(e.problems, "\n  ")
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
// with NEXTAUTH_* accepted as aliases.
func LoadConfig(lookup env) (Config, error) {
	get := func(names ...string) (string, string) {
		for _, n := range names {
			if v, ok := lookup(n); ok && strings.TrimSpace(v) != "" {
				return strings.TrimSpace(v), n
			}
		}
		return "", names[0]
	}
	errs := &configError{}
	var cfg Config

	envName, envVar := get("AUTH_ENV", "NODE_ENV")
	switch strings.ToLower(envName) {
	case "production", "prod":
		cfg.Production = true
	case "", "development", "dev", "test":
	default:
		errs.add(envVar, "must be production or development, got %q", envName)
	}
	if v, name := get("AUTH_DEBUG"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs.add(name, "must be true or false, got %q", v)
		}
		cfg.Debug = b
	}

	cfg.DataDir, _ = get("AUTH_DATA_DIR", "DATA_DIR")
	if cfg.DataDir == "" {
		cfg.DataDir = "data"
	}

	// Listen address: LISTEN_ADDR (host:port) or a bare PORT.
	listen, listenVar := get("LISTEN_ADDR")
	if listen == "" {
		if port, portVar := get("PORT"); port != "" {
			if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
				errs.add(portVar, "must be a port number, got %q", port)
			}
			listen = ":" + port
		} else if cfg.Production {
			listen = ":4000"
		} else {
			listen = "127.0.0.1:4000"
		}
	} else if _, port, err := net.SplitHostPort(listen); err != nil || port == "" {
		errs.add(listenVar, "must be host:port, got %q", listen)
	}
	cfg.HTTP.ListenAddr = listen
	cfg.HTTP.ShutdownTimeout = 15 * time.Second

	// Public URL.
	rawURL, urlVar := get("AUTH_URL", "NEXTAUTH_URL")
	if rawURL == "" {
		if cfg.Production {
			errs.add("AUTH_URL", "required in production (the public https URL of /api/auth)")
		}
		host := listen
		if strings.HasPrefix(host, ":") || strings.HasPrefix(host, "0.0.0.0:") {
			host = "localhost" + host[strings.LastIndex(host, ":"):]
		}
		rawURL = "http://" + host + "/api/auth"
	}
	if u, err := url.Parse(rawURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs.add(urlVar, "must be an absolute http(s) URL, got %q", rawURL)
	} else {
		if u.Path == "" || u.Path == "/" {
			u.Path = "/api/auth"
		}
		u.RawQuery, u.Fragment = "", ""
		if cfg.Production && u.Scheme != "https" {
			errs.add(urlVar, "must be https in production, got %q", rawURL)
		}
		cfg.HTTP.PublicURL = u
	}
	if v, name := get("AUTH_TRUSTED_PROXIES"); v != "" {
		for _, p := range strings.Split(v, ",") {
			p = strings.TrimSpace(p)
			if net.ParseIP(p) == nil {
				if _, _, err := net.ParseCIDR(p); err != nil {
					errs.add(name, "%q is not an IP address or CIDR", p)
					continue
				}
			}
			cfg.HTTP.TrustedProxies = append(cfg.HTTP.TrustedProxies, p)
		}
	}
	cfg.HTTP.Debug = cfg.Debug

	// Database.
	dbURL, dbVar := get("DATABASE_URL")
	if dbURL == "" && cfg.Production {
		errs.add("DATABASE_URL", "required in production (the embedded SQLite is for development)")
	}
	sc, err := store.ParseDatabaseURL(dbURL, cfg.DataDir)
	if err != nil {
		errs.add(dbVar, "%v", err)
	}
	if v, name := get("DB_POOL_SIZE", "DATABASE_POOL_SIZE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			errs.add(name, "must be an integer from 1 to 1000, got %q", v)
		}
		sc.MaxOpenConns = n
	}
	if v, name := get("DB_POOL_TIMEOUT", "DATABASE_POOL_TIMEOUT"); v != "" {
		d, err := parseDuration(v)
		if err != nil || d <= 0 {
			errs.add(name, "must be a positive duration (10s) or seconds, got %q", v)
		}
		sc.PoolTimeout = d
	}
	if cfg.Production && sc.Dialect == store.Postgres && insecurePostgres(sc.DSN) {
		errs.add(dbVar, "sslmode=disable is refused in production for a non-local database (use sslmode=verify-full)")
	}
	// The session read cache: on by default, 5 s at most between a change
	// made outside the cache's reach and its effect (other replicas' changes
	// arrive through LISTEN/NOTIFY within moments).
	sc.SessionCache = store.CacheConfig{TTL: 5 * time.Second, MaxEntries: 100_000, MaxBytes: 64 << 20}
	if v, name := get("AUTH_SESSION_CACHE_TTL"); v != "" {
		d, err := parseDuration(v)
		if err != nil || d < 0 || d > time.Minute {
			errs.add(name, "must be a duration from 0 (off) to 1m, got %q", v)
		}
		sc.SessionCache.TTL = d
	}
	if v, name := get("AUTH_SESSION_CACHE_MAX_ENTRIES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10_000_000 {
			errs.add(name, "must be an integer from 1 to 10000000, got %q", v)
		}
		sc.SessionCache.MaxEntries = n
	}
	if v, name := get("AUTH_SESSION_CACHE_MAX_MB"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 65536 {
			errs.add(name, "must be a number of MiB from 1 to 65536, got %q", v)
		}
		sc.SessionCache.MaxBytes = int64(n) << 20
	}
	cfg.Store = sc
	cfg.MigrateOnStart = sc.Dialect == store.SQLite && !cfg.Production
	if v, name := get("AUTH_MIGRATE_ON_START"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs.add(name, "must be true or false, got %q", v)
		}
		cfg.MigrateOnStart = b
	}

	// Session lifetimes (Auth.js maxAge / updateAge, in seconds or Go durations).
	cfg.Policy = domain.DefaultSessionPolicy()
	for _, d := range []struct {
		names []string
		dst   *time.Duration
	}{
		{[]string{"AUTH_SESSION_MAX_AGE"}, &cfg.Policy.MaxAge},
		{[]string{"AUTH_SESSION_UPDATE_AGE"}, &cfg.Policy.UpdateAge},
		{[]string{"AUTH_SESSION_ABSOLUTE_MAX_AGE"}, &cfg.Policy.AbsoluteLifetime},
	} {
		if v, name := get(d.names...); v != "" {
			dur, err := parseDuration(v)
			if err != nil || dur <= 0 {
				errs.add(name, "must be a positive duration (8h) or a number of seconds, got %q", v)
				continue
			}
			*d.dst = dur
		}
	}
	if _, set := lookup("AUTH_SESSION_ABSOLUTE_MAX_AGE"); !set && cfg.Policy.AbsoluteLifetime < cfg.Policy.MaxAge {
		cfg.Policy.AbsoluteLifetime = 3 * cfg.Policy.MaxAge
	}
	if err := cfg.Policy.Validate(); err != nil {
		var ve *domain.ValidationError
		if errors.As(err, &ve) {
			errs.add(policyVar(ve.Field), "%s", ve.Reason)
		}
	}

	cfg.CleanupInterval = 10 * time.Minute
	if v, name := get("AUTH_CLEANUP_INTERVAL"); v != "" {
		d, err := parseDuration(v)
		if err != nil || d < 0 || (d > 0 && d < time.Second) {
			errs.add(name, "must be a duration of at least 1s (or 0 to disable), got %q", v)
		}
		cfg.CleanupInterval = d
	}
	cfg.CleanupBatchSize = 1000
	if v, name := get("AUTH_CLEANUP_BATCH_SIZE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 5000 {
			errs.add(name, "must be an integer from 1 to 5000, got %q", v)
		}
		cfg.CleanupBatchSize = n
	}

	// Identity provider.
	issuer, issuerVar := get("AUTH_KEYCLOAK_ISSUER", "KEYCLOAK_ISSUER")
	clientID, idVar := get("AUTH_KEYCLOAK_ID", "KEYCLOAK_CLIENT_ID")
	clientSecret, _ := get("AUTH_KEYCLOAK_SECRET", "KEYCLOAK_CLIENT_SECRET")
	switch {
	case issuer == "" && cfg.Production:
		errs.add("AUTH_KEYCLOAK_ISSUER", "required in production (the embedded development IdP is refused)")
	case issuer == "":
		if clientID != "" {
			errs.add("AUTH_KEYCLOAK_ISSUER", "required when %s is set", idVar)
		}
	default:
		if u, err := url.Parse(issuer); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs.add(issuerVar, "must be an absolute http(s) URL such as https://keycloak.example.com/realms/crm, got %q", issuer)
		} else if cfg.Production && u.Scheme != "https" {
			errs.add(issuerVar, "must be https in production")
		}
		if clientID == "" {
			errs.add("AUTH_KEYCLOAK_ID", "required when AUTH_KEYCLOAK_ISSUER is set")
		}
		if clientSecret == "" && cfg.Production {
			errs.add("AUTH_KEYCLOAK_SECRET", "required in production (a confidential client)")
		}
		cfg.Keycloak = &keycloak.Config{Issuer: strings.TrimSuffix(issuer, "/"), ClientID: clientID, ClientSecret: clientSecret}
	}
	cfg.IdPMaxConcurrency = application.DefaultIdPMaxConcurrency
	if v, name := get("AUTH_IDP_MAX_CONCURRENCY"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			errs.add(name, "must be concurrent IdP token requests from 1 to 10000, got %q", v)
		}
		cfg.IdPMaxConcurrency = n
	}
	if v, name := get("AUTH_POST_LOGOUT_REDIRECT_URL"); v != "" {
		if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs.add(name, "must be an absolute http(s) URL, got %q", v)
		}
		cfg.HTTP.PostLogoutRedirectURL = v
	}

	// Backend API and proxy.
	if v, name := get("BACKEND_API_URL", "NEXT_PUBLIC_SPRING_API_URL", "SPRING_API_URL"); v != "" {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			errs.add(name, "must be an absolute http(s) URL without a query, got %q", v)
		} else {
			cfg.Upstream = u
		}
	}
	if v, name := get("AUTH_PROXY_RULES"); v != "" {
		rules, err := parseProxyRules(v)
		if err != nil {
			errs.add(name, "%v", err)
		}
		cfg.ProxyRules = rules
	}
	if v, name := get("AUTH_TOKEN_ENDPOINT"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs.add(name, "must be true or false, got %q", v)
		}
		cfg.HTTP.DisableTokenEndpoint = !b
	}
	if v, name := get("AUTH_SIGNIN_RATE_LIMIT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100000 {
			errs.add(name, "must be sign-ins per second per client IP from 1 to 100000, got %q", v)
		}
		cfg.HTTP.SignInRateLimit = n
	}
	if v, name := get("AUTH_ACCEPT_LEGACY_COOKIES"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs.add(name, "must be true or false, got %q", v)
		}
		cfg.HTTP.AcceptLegacyCookies = b
	}
	cfg.HTTP.MetricsToken, _ = get("AUTH_METRICS_TOKEN")
	if v, name := get("AUTH_TOKEN_RATE_LIMIT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			errs.add(name, "must be requests per second from 1 to 10000, got %q", v)
		}
		cfg.HTTP.TokenRateLimit = n
	}

	// Secrets last: a development secret is only generated when the rest is valid.
	if len(errs.problems) > 0 {
		return cfg, errs
	}
	secrets, generated, err := loadSecrets(get, cfg.Production, cfg.DataDir)
	if err != nil {
		errs.add("AUTH_SECRET", "%v", err)
		return cfg, errs
	}
	cfg.Secrets, cfg.GeneratedSecret = secrets, generated
	cfg.HTTP.Secrets = secrets
	return cfg, nil
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

// parseDuration accepts Go durations ("8h", "90m") and plain seconds ("28800"),
// the unit Auth.js uses for maxAge.
func parseDuration(v string) (time.Duration, error) {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	return time.ParseDuration(v)
}

// minSecretBytes is the least entropy accepted in production: 32 bytes, what
// `npx auth secret` / `openssl rand -base64 32` produce.
const minSecretBytes = 32

// loadSecrets reads AUTH_SECRET (a comma-separated list; the first encrypts,
// all decrypt) or AUTH_SECRET_1..AUTH_SECRET_3 as Auth.js allows for rotation.
// Without one outside production, a development secret is generated once and
// kept in the data folder so sessions survive restarts.
func loadSecrets(get func(...string) (string, string), production bool, dataDir string) ([][]byte, bool, error) {
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
