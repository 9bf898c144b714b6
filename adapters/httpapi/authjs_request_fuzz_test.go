package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

// parseAuthBody runs the Auth.js body parser on one POST.
func parseAuthBody(contentType string, body []byte) *authRequest {
	gin.SetMode(gin.TestMode)
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest(http.MethodPost, "/api/auth/signin/keycloak", bytes.NewReader(body))
	c.Request.Header.Set("Content-Type", contentType)
	r := &authRequest{c: c, body: map[string]string{}}
	r.parseBody()
	return r
}

// FuzzParseAuthBody: any body under any content type parses without a
// panic, and nothing of a body over maxAuthBody is read; what the Auth.js
// client sends (csrfToken, callbackUrl, json, data), encoded by the standard
// library as a form and as JSON, is read back unchanged. Seeds:
// testdata/fuzz/FuzzParseAuthBody.
func FuzzParseAuthBody(f *testing.F) {
	f.Add("application/x-www-form-urlencoded", []byte("csrfToken=abc&callbackUrl=%2Fdashboard&json=true"), "abc", "/dashboard")
	f.Add("application/json; charset=utf-8", []byte(`{"csrfToken":"abc","data":{"organizationId":"acme"}}`), "abc", "http://app.example.com/x?y=1")
	f.Fuzz(func(t *testing.T, contentType string, raw []byte, csrf, callback string) {
		r := parseAuthBody(contentType, raw)
		if len(raw) > maxAuthBody && (len(r.body) > 0 || r.data != nil) {
			t.Fatalf("a %d-byte body was parsed", len(raw))
		}
		if !utf8.ValidString(csrf) || !utf8.ValidString(callback) {
			return // JSON cannot carry invalid UTF-8 unchanged
		}
		form := url.Values{"csrfToken": {csrf}, "callbackUrl": {callback}, "json": {"true"}}.Encode()
		asJSON, err := json.Marshal(map[string]any{"csrfToken": csrf, "callbackUrl": callback, "json": true,
			"data": map[string]string{"organizationId": csrf}})
		if err != nil {
			t.Fatal(err)
		}
		for ct, body := range map[string][]byte{
			"application/x-www-form-urlencoded": []byte(form),
			"application/json":                  asJSON,
		} {
			if len(body) > maxAuthBody {
				continue
			}
			r := parseAuthBody(ct, body)
			if r.body["csrfToken"] != csrf || r.body["callbackUrl"] != callback || r.body["json"] != "true" {
				t.Fatalf("%s %q read back as %q", ct, body, r.body)
			}
			if ct == "application/json" {
				var data struct{ OrganizationID string }
				if err := json.Unmarshal(r.data, &data); err != nil || data.OrganizationID != csrf {
					t.Fatalf("data %q read back as %q", csrf, r.data)
				}
			}
		}
	})
}
