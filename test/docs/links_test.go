// Package docs checks the repository's documentation: README.md and docs/
// may refer only to files that exist in the repository, so a reader never
// follows a reference to a document they do not have.
package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// documents returns README.md and every Markdown file under docs/.
func documents(t *testing.T, root string) []string {
	t.Helper()
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) == 0 {
		t.Fatal("docs/ holds no Markdown file")
	}
	return append([]string{filepath.Join(root, "README.md")}, docs...)
}

var (
	// markdownLink is [text](target).
	markdownLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	// fileMention is a path or file name with an extension of a file kept
	// in a repository, in backticks or plain text.
	fileMention = regexp.MustCompile(`(?:^|[\s(` + "`" + `"'])((?:\.\./|\./)?[A-Za-z0-9_.\-/]*[A-Za-z0-9_\-]\.(?:md|go|sh|json|ya?ml|sql|mjs|mod))\b`)
	heading     = regexp.MustCompile(`(?m)^#{1,6}\s+(.+)$`)
)

// TestDocumentsReferOnlyToFilesInTheRepository fails on a link or a file
// name in README.md or docs/ that names no file of the repository (for
// example a design note kept elsewhere), on a link that leaves the
// repository, and on a link to a heading that does not exist.
func TestDocumentsReferOnlyToFilesInTheRepository(t *testing.T) {
	root := repoRoot(t)
	basenames := repositoryBasenames(t, root)
	for _, doc := range documents(t, root) {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range problems(root, doc, string(b), basenames) {
			t.Error(p)
		}
	}
}

// TestTheCheckCatchesBadReferences makes sure the check can fail: a README
// naming documents kept outside the repository, or a heading that does not
// exist, is reported; one naming real files is not.
func TestTheCheckCatchesBadReferences(t *testing.T) {
	root := repoRoot(t)
	basenames := repositoryBasenames(t, root)
	readme := filepath.Join(root, "README.md")
	bad := "The import rules of DESIGN.md §1.\nSee [the checklist](../shared/SECURITY.md), " +
		"[ops](docs/operations.md#no-such-heading) and `docs/missing.md`.\n"
	require.ElementsMatch(t, []string{
		`README.md names "DESIGN.md", which is no file of the repository`,
		`README.md links to "../shared/SECURITY.md", outside the repository`,
		`README.md names "../shared/SECURITY.md", outside the repository`,
		`README.md links to "docs/operations.md#no-such-heading": no such heading`,
		`README.md names "docs/missing.md", which does not exist in the repository`,
	}, problems(root, readme, bad, basenames))
	good := "See [security](docs/security.md#reliability-figures-r1r15), `adapters/httpapi/errors.go`, " +
		"`module.go`, the route `/openapi.json` and `buildUseCase[*T](...)`.\n```\nh := buildUseCase[*T](cfg)\n```\n"
	require.Empty(t, problems(root, readme, good, basenames))
}

var codeSpan = regexp.MustCompile("(?s)```.*?```|`[^`\n]*`")

// problems lists the bad references of one document (path doc, content text).
func problems(root, doc, text string, basenames map[string]bool) []string {
	rel, _ := filepath.Rel(root, doc)
	var out []string
	for _, m := range markdownLink.FindAllStringSubmatch(codeSpan.ReplaceAllString(text, ""), -1) {
		if p := checkLink(root, doc, rel, m[1]); p != "" {
			out = append(out, p)
		}
	}
	for _, m := range fileMention.FindAllStringSubmatch(text, -1) {
		if p := checkMention(root, doc, rel, m[1], basenames); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func checkLink(root, doc, rel, target string) string {
	if strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://") || strings.HasPrefix(target, "mailto:") {
		return ""
	}
	path, anchor, _ := strings.Cut(target, "#")
	file := doc
	if path != "" {
		file = filepath.Join(filepath.Dir(doc), path)
		if !inside(root, file) {
			return rel + " links to " + strconv.Quote(target) + ", outside the repository"
		}
		if _, err := os.Stat(file); err != nil {
			return rel + " links to " + strconv.Quote(target) + ", which does not exist"
		}
	}
	if anchor != "" && strings.HasSuffix(file, ".md") && !hasHeading(file, anchor) {
		return rel + " links to " + strconv.Quote(target) + ": no such heading"
	}
	return ""
}

func checkMention(root, doc, rel, name string, basenames map[string]bool) string {
	if strings.HasPrefix(name, "/") {
		return "" // a URL path such as /openapi.json
	}
	if !strings.Contains(name, "/") {
		if !basenames[name] {
			return rel + " names " + strconv.Quote(name) + ", which is no file of the repository"
		}
		return ""
	}
	candidates := []string{filepath.Join(root, name), filepath.Join(filepath.Dir(doc), name)}
	for _, c := range candidates {
		if !inside(root, c) {
			return rel + " names " + strconv.Quote(name) + ", outside the repository"
		}
	}
	for _, c := range candidates {
		if _, err := os.Stat(c); err == nil {
			return ""
		}
	}
	return rel + " names " + strconv.Quote(name) + ", which does not exist in the repository"
}

func inside(root, path string) bool {
	r, err := filepath.Rel(root, filepath.Clean(path))
	return err == nil && r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator))
}

// hasHeading reports whether file has a heading whose GitHub anchor is anchor.
func hasHeading(file, anchor string) bool {
	b, err := os.ReadFile(file)
	if err != nil {
		return false
	}
	for _, m := range heading.FindAllStringSubmatch(string(b), -1) {
		if slug(m[1]) == anchor {
			return true
		}
	}
	return false
}

// slug is GitHub's heading anchor: lower case, punctuation dropped, spaces
// turned into hyphens.
func slug(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(h)) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9'):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// repositoryBasenames lists the names of the repository's files, so a bare
// file name in the text ("module.go") must name one of them.
func repositoryBasenames(t *testing.T, root string) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules" || d.Name() == ".cache") {
			return filepath.SkipDir
		}
		names[d.Name()] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}
