package httpapi_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/adapters/httpapi"
)

// authJSRoutes are the routes of the Auth.js wire contract,
// described in the README's HTTP surface section rather than in openapi.json.
var authJSRoutes = map[string]bool{
	"GET /api/auth/session": true, "POST /api/auth/session": true, "GET /api/auth/csrf": true,
	"GET /api/auth/providers": true, "GET /api/auth/signin": true, "GET /api/auth/signin/{provider}": true,
	"POST /api/auth/signin/{provider}": true, "GET /api/auth/callback/{provider}": true,
	"POST /api/auth/callback/{provider}": true, "GET /api/auth/signout": true, "POST /api/auth/signout": true,
	"GET /api/auth/error": true,
}

var ginParam = regexp.MustCompile(`[:*]([a-zA-Z]+)`)

// TestOpenAPIMatchesTheRouter keeps openapi.json true: every route outside
// the Auth.js contract is documented with its method, and every documented
// operation exists.
func TestOpenAPIMatchesTheRouter(t *testing.T) {
	pub, _ := url.Parse("http://127.0.0.1:4000/api/auth")
	h := httpapi.Handlers{Metrics: http.NotFoundHandler()}
	engine, err := httpapi.NewRouter(httpapi.Config{PublicURL: pub, Secrets: [][]byte{[]byte("s")}}, h, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)

	routed := map[string]bool{}
	for _, r := range engine.Routes() {
		path := ginParam.ReplaceAllString(r.Path, "{$1}")
		key := r.Method + " " + path
		if authJSRoutes[key] {
			continue
		}
		if strings.HasPrefix(path, "/api/proxy/") && r.Method != "GET" && r.Method != "POST" && r.Method != "PUT" &&
			r.Method != "PATCH" && r.Method != "DELETE" {
			continue // HEAD, OPTIONS, CONNECT, TRACE reach the proxy route too; the doc lists the usual verbs
		}
		routed[key] = true
	}

	srv := engine
	req, _ := http.NewRequest(http.MethodGet, "/openapi.json", nil)
	rec := newRecorder()
	srv.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.status)
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(rec.body.Bytes(), &doc))
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			if method == "parameters" {
				continue
			}
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	require.Equal(t, keys(routed), keys(documented))
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
