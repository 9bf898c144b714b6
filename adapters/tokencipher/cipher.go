package tokencipher

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/authbff/authbff/ports"
)

const (
	version   = 1
	keyIDSize = 4
	hkdfSalt  = "authbff token cipher v1"
	hkdfInfo  = "authbff stored OAuth tokens"
)

// ErrUndecryptable means a sealed value was tampered with, is not ours, or
// was sealed with a key that is no longer configured.
var ErrUndecryptable = errors.New("sealed token cannot be opened")

type key struct {
	id   [keyIDSize]byte
	aead cipher.AEAD
}

// TokenCipher implements ports.TokenCipher. The first secret's key seals;
// every configured key opens, picked by the key id in the sealed value, so
// AUTH_SECRET can rotate without signing anyone out.
type TokenCipher struct {
	keys []key
}

var _ ports.TokenCipher = (*TokenCipher)(nil)

// Secrets are the AUTH_SECRET values; the first one seals.
type Secrets [][]byte

// NewTokenCipher derives one AES-256 key per secret.
func NewTokenCipher(secrets Secrets) (*TokenCipher, error) {
	if len(secrets) == 0 {
		return nil, errors.New("token cipher: no secret")
	}
	c := &TokenCipher{}
	for _, s := range secrets {
		k, err := hkdf.Key(sha256.New, s, []byte(hkdfSalt), hkdfInfo, 32)
		if err != nil {
			return nil, fmt.Errorf("token cipher: derive key: %w", err)
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(k)
		var id [keyIDSize]byte
		copy(id[:], sum[:keyIDSize])
		c.keys = append(c.keys, key{id: id, aead: aead})
	}
	return c, nil
}

// Seal implements ports.TokenCipher. Layout: version (1 byte) | key id
// (4 bytes) | nonce (12 bytes) | ciphertext and tag. The header is
// authenticated as additional data.
func (c *TokenCipher) Seal(plaintext string) ([]byte, error) {
	if plaintext == "" {
		return nil, nil
	}
	k := c.keys[0]
	header := make([]byte, 0, 1+keyIDSize+k.aead.NonceSize())
	header = append(header, version)
	header = append(header, k.id[:]...)
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	out := append(header, nonce...)
	return k.aead.Seal(out, nonce, []byte(plaintext), out[:1+keyIDSize]), nil
}

// Open implements ports.TokenCipher.
func (c *TokenCipher) Open(sealed []byte) (string, error) {
	if len(sealed) == 0 {
		return "", nil
	}
	if len(sealed) < 1+keyIDSize || sealed[0] != version {
		return "", ErrUndecryptable
	}
	for _, k := range c.keys {
		if [keyIDSize]byte(sealed[1:1+keyIDSize]) != k.id {
			continue
		}
		ns := k.aead.NonceSize()
		if len(sealed) < 1+keyIDSize+ns {
			return "", ErrUndecryptable
		}
		nonce := sealed[1+keyIDSize : 1+keyIDSize+ns]
		pt, err := k.aead.Open(nil, nonce, sealed[1+keyIDSize+ns:], sealed[:1+keyIDSize])
		if err != nil {
			return "", ErrUndecryptable
		}
		return string(pt), nil
	}
	return "", ErrUndecryptable
}
