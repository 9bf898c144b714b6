package main

import (
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
)

// TestAppGraph validates the fx graph that `serve` runs, for the development
// configuration (embedded IdP, SQLite, no proxy) and a production one
// (Keycloak, PostgreSQL, the proxy), so a missing provider fails `go test`
// rather than a production start.
func TestAppGraph(t *testing.T) {
	configs := map[string]map[string]string{
		"development": {"AUTH_DATA_DIR": t.TempDir()},
		"production": {
			"AUTH_ENV":             "production",
			"AUTH_DATA_DIR":        t.TempDir(),
			"AUTH_URL":             "https://app.example.com/api/auth",
			"DATABASE_URL":         "postgres://u@db.internal/db?sslmode=verify-full",
			"AUTH_SECRET":          strings.Repeat("s", 40),
			"AUTH_KEYCLOAK_ISSUER": "https://kc.example.com/realms/crm",
			"AUTH_KEYCLOAK_ID":     "web_app",
			"AUTH_KEYCLOAK_SECRET": "s3cret",
			"BACKEND_API_URL":      "https://api.example.com",
			"AUTH_PROXY_RULES":     "/admin=admin",
		},
	}
	for name, vars := range configs {
		t.Run(name, func(t *testing.T) {
			cfg, err := LoadConfig(envOf(vars))
			require.NoError(t, err)
			require.NoError(t, fx.ValidateApp(appOptions(cfg, io.Discard)))
		})
	}
}
