package testenv

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
)

// NPMInstalled reports whether node_modules/.package-lock.json (npm's record
// of what it installed) lists the same packages, versions and integrity
// hashes as package-lock.json.
func NPMInstalled(dir string) bool {
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
