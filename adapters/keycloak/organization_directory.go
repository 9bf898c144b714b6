package keycloak

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
)

// Directory implements ports.OrganizationDirectory with Keycloak's admin REST
// API, called as the client's own service account (a client-credentials
// token of AUTH_KEYCLOAK_ID/SECRET). Keycloak 26.5 lets a service account
// list organizations only with the realm-management role manage-realm
// (view-realm, view-users and query-realms are refused), and its
// `search` parameter matches names and domains, not aliases: so the
// directory lists the realm's organizations page by page and indexes them by
// alias. The listing is cached for a TTL and bounded (MaxOrganizations); a
// failure is remembered for RetryAfter, so a realm that refuses access is not
// asked again on every token refresh; an unknown alias reloads a listing at
// most once per RetryAfter.
type Directory struct {
	listURL string
	cc      clientcredentials.Config
	client  *http.Client
	cfg     DirectoryConfig

	load   sync.Mutex         // one listing at a time; the others wait for its result
	tokens oauth2.TokenSource // under load; keeps the service-account token until it expires

	mu        sync.Mutex
	byAlias   map[string]domain.Organization
	loaded    time.Time
	expires   time.Time
	failure   error
	failUntil time.Time
}

var _ ports.OrganizationDirectory = (*Directory)(nil)

// DirectoryConfig tunes the cache. Zero values take the defaults.
type DirectoryConfig struct {
	// TTL is how long a listing is used: 10 minutes. Organization ids never
	// change; a new organization or a new tenant_id shows after at most TTL.
	TTL time.Duration
	// RetryAfter is how long a failure is answered from memory: 1 minute.
	RetryAfter time.Duration
	// MaxOrganizations bounds the listing (and the memory it takes): 10000.
	MaxOrganizations int
	// PageSize is the page size of the listing: 100.
	PageSize int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

func (c DirectoryConfig) withDefaults() DirectoryConfig {
	if c.TTL <= 0 {
		c.TTL = 10 * time.Minute
	}
	if c.RetryAfter <= 0 {
		c.RetryAfter = time.Minute
	}
	if c.MaxOrganizations <= 0 {
		c.MaxOrganizations = 10000
	}
	if c.PageSize <= 0 {
		c.PageSize = 100
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// NewDirectory returns the organization directory of p's realm. Nothing is
// called until the first lookup.
func NewDirectory(p *Provider, cfg DirectoryConfig) *Directory {
	cc := clientcredentials.Config{ClientID: p.cfg.ClientID, ClientSecret: p.cfg.ClientSecret,
		TokenURL: p.oauth.Endpoint.TokenURL, AuthStyle: p.oauth.Endpoint.AuthStyle}
	d := &Directory{listURL: adminURL(p.cfg.Issuer, "/organizations"), cc: cc, client: p.client, cfg: cfg.withDefaults()}
	d.newTokens()
	return d
}

// newTokens drops the cached service-account token. Keycloak authorizes the
// admin API by the roles in the token, so after a refusal the next attempt
// must carry a new token, or a role granted meanwhile would not show until
// the old token expired.
func (d *Directory) newTokens() {
	d.tokens = d.cc.TokenSource(context.WithValue(context.Background(), oauth2.HTTPClient, d.client))
}

// newDirectory is NewDirectory for fx: default cache settings.
func newDirectory(p *Provider) *Directory { return NewDirectory(p, DirectoryConfig{}) }

// adminURL maps an issuer {server}/realms/{realm} to {server}/admin/realms/{realm}+path,
// or "" when the issuer is not a Keycloak realm URL.
func adminURL(issuer, path string) string {
	issuer = strings.TrimSuffix(issuer, "/")
	i := strings.LastIndex(issuer, "/realms/")
	if i < 0 || strings.Contains(issuer[i+len("/realms/"):], "/") {
		return ""
	}
	return issuer[:i] + "/admin" + issuer[i:] + path
}

// ByAlias implements ports.OrganizationDirectory. An alias missing from a
// listing older than RetryAfter reloads it once: an organization created
// since then (its first members signing in) is found without waiting for
// the TTL, and a token naming unknown aliases cannot force more than one
// listing per RetryAfter.
func (d *Directory) ByAlias(ctx context.Context, aliases []string) (map[string]domain.Organization, error) {
	all, err := d.organizations(ctx, false)
	if err != nil {
		return nil, err
	}
	if !hasAll(all, aliases) && d.olderThan(d.cfg.RetryAfter) {
		if all, err = d.organizations(ctx, true); err != nil {
			return nil, err
		}
	}
	out := make(map[string]domain.Organization, len(aliases))
	for _, a := range aliases {
		if o, ok := all[a]; ok {
			out[a] = o
		}
	}
	return out, nil
}

func hasAll(all map[string]domain.Organization, aliases []string) bool {
	for _, a := range aliases {
		if _, ok := all[a]; !ok {
			return false
		}
	}
	return true
}

func (d *Directory) olderThan(age time.Duration) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return !d.cfg.Now().Before(d.loaded.Add(age))
}

// Count returns how many organizations the directory sees, for `authbff
// validate`: it proves the service account may list them.
func (d *Directory) Count(ctx context.Context) (int, error) {
	all, err := d.organizations(ctx, false)
	return len(all), err
}

// organizations returns the cached listing, loading it when stale or when
// reload is set (and no other caller reloaded it within RetryAfter).
func (d *Directory) organizations(ctx context.Context, reload bool) (map[string]domain.Organization, error) {
	if all, err, ok := d.cached(); ok && (err != nil || !reload) {
		return all, err
	}
	d.load.Lock()
	defer d.load.Unlock()
	// Loaded (or failed) while this caller waited.
	if all, err, ok := d.cached(); ok && (err != nil || !reload || !d.olderThan(d.cfg.RetryAfter)) {
		return all, err
	}
	all, err := d.list(ctx)
	if errors.Is(err, ports.ErrDirectoryDenied) {
		d.newTokens()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.cfg.Now()
	if err != nil {
		d.failure, d.failUntil = err, now.Add(d.cfg.RetryAfter)
		return nil, err
	}
	d.byAlias, d.loaded, d.expires, d.failure = all, now, now.Add(d.cfg.TTL), nil
	return all, nil
}

func (d *Directory) cached() (map[string]domain.Organization, error, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.cfg.Now()
	if d.failure != nil && now.Before(d.failUntil) {
		return nil, d.failure, true
	}
	if d.byAlias != nil && now.Before(d.expires) {
		return d.byAlias, nil, true
	}
	return nil, nil, false
}

// organizationJSON is Keycloak's OrganizationRepresentation, the part read.
type organizationJSON struct {
	ID         string              `json:"id"`
	Name       string              `json:"name"`
	Alias      string              `json:"alias"`
	Enabled    bool                `json:"enabled"`
	Attributes map[string][]string `json:"attributes"`
}

// list reads every organization of the realm, page by page, up to
// MaxOrganizations.
func (d *Directory) list(ctx context.Context) (map[string]domain.Organization, error) {
	if d.listURL == "" {
		return nil, fmt.Errorf("%w: the issuer is not a Keycloak realm URL (…/realms/<realm>)", ports.ErrDirectoryDenied)
	}
	tok, err := d.token(ctx)
	if err != nil {
		return nil, err
	}
	all := map[string]domain.Organization{}
	for first := 0; first < d.cfg.MaxOrganizations; first += d.cfg.PageSize {
		page, err := d.page(ctx, tok, first)
		if err != nil {
			return nil, err
		}
		for _, o := range page {
			if o.Alias == "" || o.ID == "" || !o.Enabled {
				continue // Keycloak leaves disabled organizations out of tokens too
			}
			org := domain.Organization{ExternalID: o.ID, Alias: o.Alias, Name: o.Name}
			if t := o.Attributes["tenant_id"]; len(t) > 0 {
				org.TenantID = t[0]
			}
			all[o.Alias] = org
		}
		if len(page) < d.cfg.PageSize {
			break
		}
	}
	return all, nil
}

// token gets the service account's access token. Keycloak answers
// unauthorized_client when the client has no service account.
func (d *Directory) token(ctx context.Context) (string, error) {
	type result struct {
		tok *oauth2.Token
		err error
	}
	// The shared token source is not bound to this caller's context, so
	// its wait is bounded here and by the HTTP client's timeout.
	done := make(chan result, 1)
	ts := d.tokens // newTokens may replace it once this caller has returned
	go func() {
		t, err := ts.Token()
		done <- result{t, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		return "", fmt.Errorf("%w: service-account token: %v", domain.ErrUnavailable, ctx.Err())
	}
	if r.err == nil {
		return r.tok.AccessToken, nil
	}
	var re *oauth2.RetrieveError
	if errors.As(r.err, &re) && re.Response != nil && re.Response.StatusCode >= 400 && re.Response.StatusCode < 500 && re.Response.StatusCode != 429 {
		if re.ErrorCode == "unauthorized_client" && !strings.Contains(strings.ToLower(re.ErrorDescription), "invalid client") {
			return "", fmt.Errorf("%w: the client has no service account (enable \"Service accounts roles\" on the client)", ports.ErrDirectoryDenied)
		}
		return "", fmt.Errorf("%w: the token endpoint refused the client-credentials grant (%s)", ports.ErrDirectoryDenied, re.ErrorCode)
	}
	return "", mapTokenError(r.err, ports.ErrDirectoryDenied)
}

func (d *Directory) page(ctx context.Context, tok string, first int) ([]organizationJSON, error) {
	q := url.Values{"briefRepresentation": {"false"}, "first": {strconv.Itoa(first)}, "max": {strconv.Itoa(d.cfg.PageSize)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.listURL+"?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, unavailable(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, unavailable(err)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, fmt.Errorf("%w: the admin API answered %d (the client's service account needs the realm-management role manage-realm)",
			ports.ErrDirectoryDenied, resp.StatusCode)
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return nil, fmt.Errorf("%w: the admin API answered %d", domain.ErrUnavailable, resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		// 400 "Organizations not enabled for this realm", 404, a redirect.
		return nil, fmt.Errorf("%w: the admin API answered %d to the organization listing", ports.ErrDirectoryDenied, resp.StatusCode)
	}
	var page []organizationJSON
	if err := json.Unmarshal(body, &page); err != nil {
		return nil, fmt.Errorf("%w: the organization listing is not JSON: %v", domain.ErrUnavailable, err)
	}
	return page, nil
}
