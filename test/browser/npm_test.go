package browser

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/authbff/authbff/test/testenv"
)

// npmCI installs test/nextauth's locked dependencies with `npm ci` from the
// registry, unless node_modules already holds exactly the locked packages.
func npmCI() error {
	if testenv.NPMInstalled(nextAuthDir) {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = nextAuthDir
	cmd.Env = append(os.Environ(), "NPM_CONFIG_UPDATE_NOTIFIER=false")
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("npm ci in test/nextauth: %w\n%s", err, out)
	}
	if !testenv.NPMInstalled(nextAuthDir) {
		return fmt.Errorf("npm ci did not install the locked packages:\n%s", out)
	}
	fmt.Fprintf(os.Stderr, "browser: npm ci in test/nextauth took %s\n", time.Since(start).Round(time.Millisecond))
	return nil
}
