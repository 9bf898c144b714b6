package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func envOf(m map[string]string) env {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoadConfigDefaults(t *testing.T) {
	dir := t.TempDir()
	cfg, err := LoadConfig(envOf(map[string]string{"AUTH_DATA_DIR": dir}))
	require.NoError(t, err)
	require.False(t, cfg.Production)
	require.Equal(t, "sqlite", cfg.Store.Dialect)
	require.Equal(t, 8*time.Hour, cfg.Policy.MaxAge)
	require.Equal(t, time.Hour, cfg.Policy.UpdateAge)
	require.Equal(t, "127.0.0.1:4000", cfg.HTTP.ListenAddr)
	require.Equal(t, "/api/auth", cfg.HTTP.BasePath())
	require.True(t, cfg.GeneratedSecret)
	require.True(t, cfg.MigrateOnStart)
	require.Equal(t, 64, cfg.IdPMaxConcurrency)
	require.Equal(t, 100_000, cfg.MaxPendingSignIns)
	require.False(t, cfg.Store.SessionCache.Enabled(), "no session cache on SQLite: another process's change is not announced")

	// The generated development secret is kept, so a restart keeps sessions.
	again, err := LoadConfig(envOf(map[string]string{"AUTH_DATA_DIR": dir}))
	require.NoError(t, err)
	require.Equal(t, cfg.Secrets, again.Secrets)
}

func TestLoadConfigNamesTheBadVariable(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"max age not a duration", map[string]string{"AUTH_SESSION_MAX_AGE": "abc"}, "AUTH_SESSION_MAX_AGE"},
		{"update age above max age", map[string]string{"AUTH_SESSION_MAX_AGE": "1h", "AUTH_SESSION_UPDATE_AGE": "2h"}, "AUTH_SESSION_UPDATE_AGE"},
		{"database scheme", map[string]string{"DATABASE_URL": "mysql://x@y/z"}, "DATABASE_URL"},
		{"prisma pool limit", map[string]string{"DATABASE_URL": "postgres://u:secretpw@h/db?connection_limit=zero"}, "DATABASE_URL"},
		{"listen address", map[string]string{"LISTEN_ADDR": "nonsense"}, "LISTEN_ADDR"},
		{"port", map[string]string{"PORT": "99999"}, "PORT"},
		{"auth url", map[string]string{"AUTH_URL": "ftp://x"}, "AUTH_URL"},
		{"debug flag", map[string]string{"AUTH_DEBUG": "maybe"}, "AUTH_DEBUG"},
		{"trusted proxies", map[string]string{"AUTH_TRUSTED_PROXIES": "10.0.0.1,nope"}, "AUTH_TRUSTED_PROXIES"},
		{"production needs a database", map[string]string{"AUTH_ENV": "production", "AUTH_URL": "https://app.example.com/api/auth", "AUTH_SECRET": strings.Repeat("s", 40)}, "DATABASE_URL"},
		{"production needs https", map[string]string{"NODE_ENV": "production", "AUTH_URL": "http://app.example.com/api/auth", "DATABASE_URL": "postgres://u@h/db", "AUTH_SECRET": strings.Repeat("s", 40)}, "AUTH_URL"},
		{"production needs a strong secret", map[string]string{"AUTH_ENV": "production", "AUTH_URL": "https://app.example.com/api/auth", "DATABASE_URL": "postgres://u@h/db", "AUTH_SECRET": "short"}, "AUTH_SECRET"},
		{"production needs Keycloak", map[string]string{"AUTH_ENV": "production", "AUTH_URL": "https://app.example.com/api/auth", "DATABASE_URL": "postgres://u@h/db", "AUTH_SECRET": strings.Repeat("s", 40)}, "AUTH_KEYCLOAK_ISSUER"},
		{"issuer needs a client id", map[string]string{"AUTH_KEYCLOAK_ISSUER": "http://127.0.0.1:8080/realms/crm"}, "AUTH_KEYCLOAK_ID"},
		{"issuer is a URL", map[string]string{"AUTH_KEYCLOAK_ISSUER": "keycloak", "AUTH_KEYCLOAK_ID": "x"}, "AUTH_KEYCLOAK_ISSUER"},
		{"backend API URL", map[string]string{"NEXT_PUBLIC_SPRING_API_URL": "not a url"}, "NEXT_PUBLIC_SPRING_API_URL"},
		{"proxy rules", map[string]string{"AUTH_PROXY_RULES": "admin-without-slash"}, "AUTH_PROXY_RULES"},
		{"IdP concurrency", map[string]string{"AUTH_IDP_MAX_CONCURRENCY": "0"}, "AUTH_IDP_MAX_CONCURRENCY"},
		{"pending sign-in cap", map[string]string{"AUTH_SIGNIN_MAX_PENDING": "0"}, "AUTH_SIGNIN_MAX_PENDING"},
		{"pending sign-in cap is a number", map[string]string{"AUTH_SIGNIN_MAX_PENDING": "lots"}, "AUTH_SIGNIN_MAX_PENDING"},
		{"production refuses plaintext postgres", map[string]string{"AUTH_ENV": "production", "AUTH_URL": "https://app.example.com/api/auth", "DATABASE_URL": "postgres://u@db.internal/db?sslmode=disable", "AUTH_SECRET": strings.Repeat("s", 40)}, "DATABASE_URL"},
		{"production needs a secret", map[string]string{"AUTH_ENV": "production", "AUTH_URL": "https://app.example.com/api/auth", "DATABASE_URL": "postgres://u@h/db"}, "AUTH_SECRET"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.env["AUTH_DATA_DIR"] = t.TempDir()
			if tc.want == "AUTH_SECRET" {
				tc.env["AUTH_KEYCLOAK_ISSUER"], tc.env["AUTH_KEYCLOAK_ID"], tc.env["AUTH_KEYCLOAK_SECRET"] = "https://kc.example.com/realms/crm", "web_app", "x"
			}
			_, err := LoadConfig(envOf(tc.env))
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want+":")
			require.NotContains(t, err.Error(), "secretpw", "config errors must not echo passwords")
		})
	}
}

func TestLoadConfigReadsPrismaPoolParameters(t *testing.T) {
	cfg, err := LoadConfig(envOf(map[string]string{
		"AUTH_DATA_DIR": t.TempDir(),
		"DATABASE_URL":  "postgresql://app:pw@db.internal:5432/crm?schema=public&connection_limit=7&pool_timeout=20",
	}))
	require.NoError(t, err)
	require.Equal(t, 7, cfg.Store.MaxOpenConns)
	require.Equal(t, 20*time.Second, cfg.Store.PoolTimeout)
	require.NotContains(t, cfg.Store.DSN, "connection_limit")
	require.Contains(t, cfg.Store.DSN, "search_path=public")
	require.False(t, cfg.MigrateOnStart, "PostgreSQL migrations are a deploy step by default")
	require.Equal(t, 5*time.Second, cfg.Store.SessionCache.TTL, "the session cache is on by default on PostgreSQL")
}

func TestLoadConfigProduction(t *testing.T) {
	cfg, err := LoadConfig(envOf(map[string]string{
		"AUTH_ENV":             "production",
		"AUTH_URL":             "https://app.example.com/api/auth",
		"DATABASE_URL":         "postgres://u@h/db",
		"AUTH_SECRET":          strings.Repeat("a", 32) + "," + strings.Repeat("b", 32),
		"AUTH_SESSION_MAX_AGE": "28800",
		"AUTH_KEYCLOAK_ISSUER": "https://kc.example.com/realms/crm",
		"AUTH_KEYCLOAK_ID":     "web_app",
		"AUTH_KEYCLOAK_SECRET": "s3cret",
	}))
	require.NoError(t, err)
	require.True(t, cfg.Production)
	require.Len(t, cfg.Secrets, 2, "AUTH_SECRET lists rotation secrets")
	require.Equal(t, ":4000", cfg.HTTP.ListenAddr)
	require.True(t, cfg.HTTP.Secure())
	require.Equal(t, 8*time.Hour, cfg.Policy.MaxAge)
}

// A bad production environment lists every problem in one run, each under
// its variable's name, and the command exits with status 2: an operator
// fixes them all at once instead of in rounds.
func TestLoadConfigReportsEveryProductionProblemAtOnce(t *testing.T) {
	bad := map[string]string{
		"AUTH_ENV":                "production",
		"AUTH_DATA_DIR":           t.TempDir(),
		"AUTH_URL":                "http://app.example.com/api/auth",
		"DATABASE_URL":            "postgres://u@db.internal/db?sslmode=disable",
		"DB_POOL_SIZE":            "0",
		"AUTH_DEBUG":              "maybe",
		"AUTH_SESSION_MAX_AGE":    "forever",
		"AUTH_CLEANUP_BATCH_SIZE": "9000",
		"AUTH_TOKEN_RATE_LIMIT":   "-1",
		"AUTH_TRUSTED_PROXIES":    "nope",
		"BACKEND_API_URL":         "not a url",
		"AUTH_SECRET":             "short",
	}
	_, err := LoadConfig(envOf(bad))
	require.Error(t, err)
	for _, name := range []string{
		"AUTH_URL", "DATABASE_URL", "DB_POOL_SIZE", "AUTH_DEBUG", "AUTH_SESSION_MAX_AGE",
		"AUTH_CLEANUP_BATCH_SIZE", "AUTH_TOKEN_RATE_LIMIT", "AUTH_TRUSTED_PROXIES", "BACKEND_API_URL",
		"AUTH_KEYCLOAK_ISSUER", "AUTH_KEYCLOAK_ID", "AUTH_KEYCLOAK_SECRET", "AUTH_SECRET",
	} {
		require.Contains(t, err.Error(), "\n  "+name+": ", "every problem is reported in the same run")
	}
	t.Logf("%v", err)

	var stdout, stderr strings.Builder
	err = run(t.Context(), []string{"validate"}, &stdout, &stderr, envOf(bad))
	var ec exitCode
	require.ErrorAs(t, err, &ec)
	require.Equal(t, 2, ec.code)
}

// Outside production a development secret is generated only when the rest is
// valid, so a typo never leaves a stray file behind.
func TestLoadConfigGeneratesNoSecretForABadDevelopmentConfig(t *testing.T) {
	dir := t.TempDir()
	_, err := LoadConfig(envOf(map[string]string{"AUTH_DATA_DIR": dir, "PORT": "x"}))
	require.ErrorContains(t, err, "PORT: ")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, entries)
}
