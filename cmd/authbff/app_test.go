package main

import (
	"io"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
)

// TestAppGraph validates the fx graph that `serve` runs, so a missing
// provider fails `go test` rather than a production start.
func TestAppGraph(t *testing.T) {
	cfg, err := LoadConfig(envOf(map[string]string{"AUTH_DATA_DIR": t.TempDir()}))
	require.NoError(t, err)
	require.NoError(t, fx.ValidateApp(appOptions(cfg, io.Discard)))
}
