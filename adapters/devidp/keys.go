package devidp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// signingKey is the provider's RSA key. It is generated at start and lives
// only in memory: tokens of an earlier run do not verify after a restart.
type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

var (
	_ op.SigningKey = (*signingKey)(nil)
	_ op.Key        = publicKey{}
)

// newSigningKey generates an RSA 2048 key. Its kid is derived from the
// public key, so it is stable for the key's life and unique across runs.
func newSigningKey() (*signingKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("devidp: generate signing key: %w", err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("devidp: encode signing key: %w", err)
	}
	sum := sha256.Sum256(der)
	return &signingKey{id: base64.RawURLEncoding.EncodeToString(sum[:16]), key: key}, nil
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }

func (k *signingKey) Key() any { return k.key }

func (k *signingKey) ID() string { return k.id }

// public returns the key as served by the JWKS endpoint.
func (k *signingKey) public() publicKey { return publicKey{k} }

// publicKey is the public half of a signingKey.
type publicKey struct{ k *signingKey }

func (p publicKey) ID() string { return p.k.id }

func (p publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }

func (p publicKey) Use() string { return "sig" }

func (p publicKey) Key() any { return &p.k.key.PublicKey }

// SigningKey returns the key tokens are signed with.
func (s *storage) SigningKey(context.Context) (op.SigningKey, error) { return s.key, nil }

// SignatureAlgorithms lists the one algorithm the provider signs with.
func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

// KeySet returns the public keys served at the JWKS endpoint.
func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{s.key.public()}, nil
}
