// Package deploy checks deploy/compose.yaml without running it (registry
// images cannot be pulled where the tests run): the YAML parses, the files it
// mounts and builds exist, and the pieces agree with each other — authbff's
// image is the one `make image` tags, its Keycloak client, redirect URI and
// issuer are the mounted realm's, and the example app proxies to authbff's
// listen address.
package deploy

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

type compose struct {
	Services map[string]service `yaml:"services"`
	Volumes  map[string]any     `yaml:"volumes"`
}

type service struct {
	Image       string            `yaml:"image"`
	Build       *build            `yaml:"build"`
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
	Volumes     []string          `yaml:"volumes"`
	DependsOn   yaml.Node         `yaml:"depends_on"`
	NetworkMode string            `yaml:"network_mode"`
}

type build struct {
	Context    string            `yaml:"context"`
	Dockerfile string            `yaml:"dockerfile"`
	Args       map[string]string `yaml:"args"`
}

// realm is the part of a Keycloak realm export the wiring depends on.
type realm struct {
	Realm   string        `json:"realm"`
	Clients []realmClient `json:"clients"`
}

type realmClient struct {
	ClientID     string            `json:"clientId"`
	Secret       string            `json:"secret"`
	RedirectURIs []string          `json:"redirectUris"`
	Attributes   map[string]string `json:"attributes"`
}

// placeholder is Keycloak's ${VAR:default} substitution at realm import.
var placeholder = regexp.MustCompile(`\$\{([A-Z0-9_]+):([^}]*)\}`)

func expand(s string, env map[string]string) string {
	return placeholder.ReplaceAllStringFunc(s, func(m string) string {
		p := placeholder.FindStringSubmatch(m)
		if v, ok := env[p[1]]; ok {
			return v
		}
		return p[2]
	})
}

func dependsOn(t *testing.T, n yaml.Node) []string {
	t.Helper()
	switch n.Kind {
	case 0:
		return nil
	case yaml.SequenceNode:
		var names []string
		require.NoError(t, n.Decode(&names))
		return names
	case yaml.MappingNode:
		var m map[string]any
		require.NoError(t, n.Decode(&m))
		var names []string
		for k := range m {
			names = append(names, k)
		}
		return names
	}
	t.Fatalf("depends_on: unexpected YAML kind %v", n.Kind)
	return nil
}

func TestComposeFile(t *testing.T) {
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	dir := filepath.Join(root, "deploy")
	raw, err := os.ReadFile(filepath.Join(dir, "compose.yaml"))
	require.NoError(t, err)
	var c compose
	require.NoError(t, yaml.Unmarshal(raw, &c), "deploy/compose.yaml parses")

	for _, name := range []string{"postgres", "keycloak", "authbff", "example"} {
		require.Contains(t, c.Services, name)
	}
	realmFile := ""
	for name, s := range c.Services {
		require.True(t, s.Image != "" || s.Build != nil, "service %s has an image or a build", name)
		for _, dep := range dependsOn(t, s.DependsOn) {
			require.Contains(t, c.Services, dep, "service %s depends on a defined service", name)
		}
		for _, v := range s.Volumes {
			src, dst, _ := strings.Cut(v, ":")
			dst, _, _ = strings.Cut(dst, ":")
			if strings.HasPrefix(src, ".") || strings.HasPrefix(src, "/") {
				_, err := os.Stat(filepath.Join(dir, src))
				require.NoError(t, err, "service %s mounts an existing file: %s", name, src)
				if name == "keycloak" && strings.HasPrefix(dst, "/opt/keycloak/data/import/") {
					realmFile = filepath.Join(dir, src)
				}
			} else {
				require.Contains(t, c.Volumes, src, "service %s uses a declared volume", name)
			}
		}
		if s.Build != nil {
			ctx := filepath.Join(dir, s.Build.Context)
			df := s.Build.Dockerfile
			if df == "" {
				df = "Dockerfile"
			}
			_, err := os.Stat(filepath.Join(ctx, df))
			require.NoError(t, err, "service %s builds from an existing Dockerfile", name)
			_, err = os.Stat(filepath.Join(ctx, "package-lock.json"))
			require.NoError(t, err, "service %s builds a pinned app", name)
		}
	}

	// authbff runs the image `make image` builds.
	mk, err := os.ReadFile(filepath.Join(root, "Makefile"))
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^IMAGE\s*\?=\s*(\S+)`).FindSubmatch(mk)
	require.NotNil(t, m, "Makefile sets IMAGE")
	bff := c.Services["authbff"]
	require.Equal(t, string(m[1]), bff.Image)

	// Keycloak imports the mounted realm, whose client authbff uses.
	kc := c.Services["keycloak"]
	require.Contains(t, kc.Command, "--import-realm")
	require.NotEmpty(t, realmFile, "keycloak mounts a realm into its import folder")
	rb, err := os.ReadFile(realmFile)
	require.NoError(t, err)
	var r realm
	require.NoError(t, json.Unmarshal(rb, &r), "the realm file parses")
	env := bff.Environment
	require.True(t, strings.HasSuffix(env["AUTH_KEYCLOAK_ISSUER"], "/realms/"+r.Realm), "issuer names the realm")
	i := slices.IndexFunc(r.Clients, func(cl realmClient) bool { return cl.ClientID == env["AUTH_KEYCLOAK_ID"] })
	require.GreaterOrEqual(t, i, 0, "the realm has authbff's client %q", env["AUTH_KEYCLOAK_ID"])
	client := r.Clients[i]
	require.Equal(t, client.Secret, env["AUTH_KEYCLOAK_SECRET"])
	var redirects []string
	for _, u := range client.RedirectURIs {
		redirects = append(redirects, expand(u, kc.Environment))
	}
	require.Contains(t, redirects, env["AUTH_URL"]+"/callback/keycloak", "Keycloak accepts authbff's callback")
	appOrigin := strings.TrimSuffix(env["AUTH_URL"], "/api/auth")
	require.Equal(t, appOrigin+"/api/auth/backchannel-logout",
		expand(client.Attributes["backchannel.logout.url"], kc.Environment), "back-channel logout reaches authbff through the app")
	issuer, err := url.Parse(env["AUTH_KEYCLOAK_ISSUER"])
	require.NoError(t, err)
	require.True(t, slices.Contains(kc.Command, "--http-port="+issuer.Port()), "Keycloak listens where the issuer says")

	// The example app is built to proxy to authbff's listen address and
	// serves the origin of authbff's public URL.
	ex := c.Services["example"]
	require.NotNil(t, ex.Build)
	require.Equal(t, "http://"+env["LISTEN_ADDR"], ex.Build.Args["AUTHBFF_URL"])
	dockerfile, err := os.ReadFile(filepath.Join(dir, ex.Build.Context, "Dockerfile"))
	require.NoError(t, err)
	origin, err := url.Parse(appOrigin)
	require.NoError(t, err)
	require.Contains(t, string(dockerfile), `"--port", "`+origin.Port()+`"`)

	// Host networking everywhere: the browser and authbff see one issuer URL.
	for name, s := range c.Services {
		require.Equal(t, "host", s.NetworkMode, "service %s", name)
	}
}
