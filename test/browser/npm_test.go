package browser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// npmCI installs test/nextauth's locked dependencies with `npm ci` from the
// registry, unless node_modules already holds exactly the locked packages.
func npmCI() error {
	if npmInstalled(nextAuthDir) {
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
	if !npmInstalled(nextAuthDir) {
		return fmt.Errorf("npm ci did not install the locked packages:\n%s", out)
	}
	fmt.Fprintf(os.Stderr, "browser: npm ci in test/nextauth took %s\n", time.Since(start).Round(time.Millisecond))
	return nil
}

// npmInstalled reports whether node_modules/.package-lock.json (npm's record
// of what it installed) lists the same packages, versions and integrity
// hashes as package-lock.json.
func npmInstalled(dir string) bool {
	type entry struct {
		Version   string `json:"version"`
		Resolved  string `json:"resolved"`
		Integrity string `json:"integrity"`
	}
	read := func(name string) (map[string]entry, error) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		var lock struct {
			Packages map[string]entry `json:"packages"`
		}
		if err := json.Unmarshal(b, &lock); err != nil {
			return nil, err
		}
		if lock.Packages == nil {
			return nil, errors.New("no packages")
		}
		delete(lock.Packages, "") // the root project, only in package-lock.json
		return lock.Packages, nil
	}
	want, err := read("package-lock.json")
	if err != nil {
		return false
	}
	have, err := read(filepath.Join("node_modules", ".package-lock.json"))
	if err != nil {
		return false
	}
	for k, w := range want {
		if h, ok := have[k]; !ok || h != w {
			// Optional packages for other platforms (esbuild's binaries)
			// are locked but not installed.
			if ok || !optionalElsewhere(dir, k) {
				return false
			}
		}
	}
	return true
}

// optionalElsewhere reports whether the locked package k is optional (a
// platform binary npm skips on this machine).
func optionalElsewhere(dir, k string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		return false
	}
	var lock struct {
		Packages map[string]struct {
			Optional bool     `json:"optional"`
			OS       []string `json:"os"`
			CPU      []string `json:"cpu"`
		} `json:"packages"`
	}
	if json.Unmarshal(b, &lock) != nil {
		return false
	}
	p, ok := lock.Packages[k]
	return ok && p.Optional && (len(p.OS) > 0 || len(p.CPU) > 0)
}
