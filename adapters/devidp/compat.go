package devidp

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// This file holds the few things Keycloak does that the library does not:
// RFC 9207's `iss` in the authorization response (announced in discovery),
// Keycloak's extra token response fields, and Keycloak's logout rules.
// They decorate the library's responses; the protocol stays the library's.

// discovery serves the library's discovery document with
// authorization_response_iss_parameter_supported added and the response
// and grant types narrowed to the ones the client may use.
func discovery(issuer string, provider *op.Provider, st *storage) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cfg := op.CreateDiscoveryConfig(op.ContextWithIssuer(r.Context(), issuer), provider, st)
		raw, err := json.Marshal(cfg)
		var doc map[string]any
		if err == nil {
			err = json.Unmarshal(raw, &doc)
		}
		if err != nil {
			http.Error(w, "discovery unavailable", http.StatusInternalServerError)
			return
		}
		doc["authorization_response_iss_parameter_supported"] = true
		// Advertise only what the one client may use.
		doc["response_types_supported"] = []string{string(oidc.ResponseTypeCode)}
		doc["grant_types_supported"] = []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
		delete(doc, "device_authorization_endpoint")
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc)
	}
}

// withIssParameter adds `iss` to every redirect to a registered redirect
// URI, successful or not (RFC 9207). It covers the query response mode,
// the only one Keycloak clients like authbff use.
func withIssParameter(issuer string, c *client, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&issWriter{ResponseWriter: w, issuer: issuer, client: c}, r)
	})
}

type issWriter struct {
	http.ResponseWriter
	issuer      string
	client      *client
	wroteHeader bool
}

func (w *issWriter) WriteHeader(status int) {
	if !w.wroteHeader && status >= 300 && status < 400 {
		if loc, ok := w.withIss(w.Header().Get("Location")); ok {
			w.Header().Set("Location", loc)
		}
	}
	w.wroteHeader = true
	w.ResponseWriter.WriteHeader(status)
}

func (w *issWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *issWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *issWriter) withIss(location string) (string, bool) {
	u, err := url.Parse(location)
	if err != nil || !w.client.isRedirectURI(stripQuery(u)) {
		return "", false
	}
	q := u.Query()
	if q.Has("iss") {
		return "", false
	}
	q.Set("iss", w.issuer)
	u.RawQuery = q.Encode()
	return u.String(), true
}

// isRedirectURI reports whether base, a URL without query, is one of the
// client's registered redirect URIs without its query.
func (c *client) isRedirectURI(base string) bool {
	for _, registered := range c.redirectURIs {
		if u, err := url.Parse(registered); err == nil && stripQuery(u) == base {
			return true
		}
	}
	return false
}

// stripQuery returns u without query and fragment, to compare it with the
// registered redirect URIs.
func stripQuery(u *url.URL) string {
	c := *u
	c.RawQuery, c.ForceQuery, c.Fragment, c.RawFragment = "", false, "", ""
	return c.String()
}

// withKeycloakTokenFields adds Keycloak's refresh_expires_in, session_state
// and not-before-policy to successful token responses, and drops the
// offline_access scope the provider adds on its own (see
// authRequest.GetScopes) from `scope`.
func withKeycloakTokenFields(st *storage, log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &bufferedResponse{header: http.Header{}, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		body := rec.body.Bytes()
		if rec.status == http.StatusOK {
			if decorated, ok := decorateTokenResponse(st, body); ok {
				body = decorated
			}
		}
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(rec.status)
		if _, err := w.Write(body); err != nil {
			log.Debug("devidp: write token response", slog.Any("error", err))
		}
	})
}

func decorateTokenResponse(st *storage, body []byte) ([]byte, bool) {
	var resp map[string]any
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, false
	}
	token, _ := resp["refresh_token"].(string)
	expires, sess, ok := st.refreshTokenInfo(token)
	if !ok {
		return nil, false
	}
	resp["refresh_expires_in"] = int64(expires.Sub(st.now()).Seconds())
	resp["session_state"] = sess.id
	resp["not-before-policy"] = 0
	if scope, ok := resp["scope"].(string); ok && !slices.Contains(sess.scopes, oidc.ScopeOfflineAccess) {
		resp["scope"] = strings.Join(slices.DeleteFunc(strings.Fields(scope), func(s string) bool {
			return s == oidc.ScopeOfflineAccess
		}), " ")
	}
	out, err := json.Marshal(resp)
	if err != nil {
		return nil, false
	}
	return out, true
}

// bufferedResponse holds a response until it is decorated.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(status int) { b.status = status }

func (b *bufferedResponse) Write(p []byte) (int, error) { return b.body.Write(p) }

// withLogoutRules applies two Keycloak logout rules the library lacks. A
// post_logout_redirect_uri that comes with neither id_token_hint nor
// client_id is refused (the library would ignore it). And an id_token_hint
// this run cannot verify, typically one signed before a restart with the
// key of an earlier run, is treated as absent with the client as
// client_id, so signing out of an old session still returns to the app
// (the library would answer 400). The redirect URI is checked against the
// registered ones either way.
func withLogoutRules(issuer string, c *client, provider *op.Provider, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, "invalid logout request", http.StatusBadRequest)
			return
		}
		if r.Form.Get("post_logout_redirect_uri") != "" && r.Form.Get("id_token_hint") == "" && r.Form.Get("client_id") == "" {
			http.Error(w, "Either the parameter 'client_id' or the parameter 'id_token_hint' is required when 'post_logout_redirect_uri' is used.", http.StatusBadRequest)
			return
		}
		if hint := r.Form.Get("id_token_hint"); hint != "" {
			ctx := op.ContextWithIssuer(r.Context(), issuer)
			_, err := op.VerifyIDTokenHint[*oidc.IDTokenClaims](ctx, hint, provider.IDTokenHintVerifier(ctx))
			if err != nil && !errors.As(err, &op.IDTokenHintExpiredError{}) {
				r.Form.Del("id_token_hint")
				if r.Form.Get("client_id") == "" {
					r.Form.Set("client_id", c.id)
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}
