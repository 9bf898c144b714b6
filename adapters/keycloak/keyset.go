package keycloak

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/authbff/authbff/domain"
)

// supportedAlgs are the JWS algorithms accepted on ID and logout tokens.
var supportedAlgs = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512, jose.ES256, jose.ES384, jose.ES512, jose.EdDSA,
}

// keySet is the IdP's JWKS, cached. It is an oidc.KeySet. Unlike go-oidc's
// RemoteKeySet it refetches for an unknown key id at most once per
// minRefetch, so a flood of forged tokens with random `kid`s (sent to the
// unauthenticated back-channel logout endpoint) cannot turn authbff into an
// amplifier against the IdP's JWKS endpoint (docs/security.md R6). Key rotation still
// works: a token signed with a new key is accepted once the next refetch is
// allowed.
type keySet struct {
	url        string
	client     *http.Client
	minRefetch time.Duration
	now        func() time.Time

	mu          sync.Mutex
	keys        []jose.JSONWebKey
	lastFetch   time.Time // last successful fetch
	lastFailure time.Time // last failed fetch: retried after failureBackoff
	fetches     atomic.Int64
	fetchMu     sync.Mutex // one fetch at a time
}

// failureBackoff spaces out fetches while the JWKS endpoint fails, so a
// failing IdP is not hammered either; a success resets it.
const failureBackoff = 5 * time.Second

// trustedMinRefetch is the throttle for tokens that came from the token
// endpoint over the authenticated back channel: an unknown key there means
// the IdP rotated its keys, so authbff refetches almost at once.
const trustedMinRefetch = time.Second

func newKeySet(url string, client *http.Client, minRefetch time.Duration, now func() time.Time) *keySet {
	return &keySet{url: url, client: client, minRefetch: minRefetch, now: now}
}

// errUnknownKey means the token's key is not in the (recently fetched) JWKS.
var errUnknownKey = errors.New("token signed with an unknown key")

// errBadSignature means a key with the token's key id exists but the
// signature does not verify: a forged or damaged token.
var errBadSignature = errors.New("token signature does not verify")

// VerifySignature implements oidc.KeySet for untrusted tokens (logout
// tokens posted by anyone): unknown key ids refetch at most every minRefetch.
func (k *keySet) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	return k.verify(ctx, raw, k.minRefetch)
}

// trusted is the key set view for ID tokens received from the token
// endpoint.
func (k *keySet) trusted() trustedKeySet { return trustedKeySet{k} }

type trustedKeySet struct{ k *keySet }

// VerifySignature implements oidc.KeySet.
func (t trustedKeySet) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	return t.k.verify(ctx, raw, trustedMinRefetch)
}

func (k *keySet) verify(ctx context.Context, raw string, minRefetch time.Duration) ([]byte, error) {
	if len(raw) > maxTokenBytes {
		return nil, errors.New("token too large")
	}
	jws, err := jose.ParseSignedCompact(raw, supportedAlgs)
	if err != nil {
		return nil, fmt.Errorf("malformed jws: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("expected exactly one signature")
	}
	kid := jws.Signatures[0].Header.KeyID
	if payload, ok := k.verifyWith(jws, kid, k.cached()); ok {
		return payload, nil
	}
	keys, err := k.refetch(ctx, minRefetch)
	if err != nil {
		return nil, err
	}
	if payload, ok := k.verifyWith(jws, kid, keys); ok {
		return payload, nil
	}
	if kid != "" {
		for _, key := range keys {
			if key.KeyID == kid {
				return nil, errBadSignature
			}
		}
	}
	return nil, errUnknownKey
}

func (k *keySet) cached() []jose.JSONWebKey {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.keys
}

func (k *keySet) verifyWith(jws *jose.JSONWebSignature, kid string, keys []jose.JSONWebKey) ([]byte, bool) {
	for _, key := range keys {
		if kid != "" && key.KeyID != kid {
			continue
		}
		if key.Use != "" && key.Use != "sig" {
			continue
		}
		if payload, err := jws.Verify(key.Key); err == nil {
			return payload, true
		}
	}
	return nil, false
}

// refetch loads the JWKS unless it was loaded less than minRefetch ago (or
// failed less than failureBackoff ago); it returns the keys to try.
func (k *keySet) refetch(ctx context.Context, minRefetch time.Duration) ([]jose.JSONWebKey, error) {
	k.fetchMu.Lock()
	defer k.fetchMu.Unlock()
	k.mu.Lock()
	now := k.now()
	recent := !k.lastFetch.IsZero() && now.Sub(k.lastFetch) < minRefetch
	failing := !k.lastFailure.IsZero() && now.Sub(k.lastFailure) < failureBackoff
	keys := k.keys
	k.mu.Unlock()
	if recent {
		return keys, nil
	}
	if failing {
		return keys, fmt.Errorf("%w: jwks endpoint failing; retrying shortly", domain.ErrUnavailable)
	}
	fetched, err := k.fetch(ctx)
	k.mu.Lock()
	defer k.mu.Unlock()
	if err != nil {
		k.lastFailure = k.now()
		return k.keys, err
	}
	k.keys, k.lastFetch, k.lastFailure = fetched, k.now(), time.Time{}
	return fetched, nil
}

func (k *keySet) fetch(ctx context.Context) ([]jose.JSONWebKey, error) {
	k.fetches.Add(1)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, unavailable(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: jwks answered %d", domain.ErrUnavailable, resp.StatusCode)
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return nil, fmt.Errorf("%w: jwks: %w", domain.ErrUnavailable, err)
	}
	return set.Keys, nil
}

// Fetches returns how many times the JWKS was fetched (for tests).
func (k *keySet) Fetches() int64 { return k.fetches.Load() }
