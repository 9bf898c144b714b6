package tokencipher_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/adapters/tokencipher"
)

func TestSealOpenRoundTrip(t *testing.T) {
	c, err := tokencipher.NewTokenCipher([][]byte{[]byte("first-secret-with-enough-entropy!!")})
	require.NoError(t, err)
	sealed, err := c.Seal("eyJhbGciOi.access.token")
	require.NoError(t, err)
	require.False(t, bytes.Contains(sealed, []byte("access")), "ciphertext must not contain the plaintext")
	got, err := c.Open(sealed)
	require.NoError(t, err)
	require.Equal(t, "eyJhbGciOi.access.token", got)

	again, _ := c.Seal("eyJhbGciOi.access.token")
	require.NotEqual(t, sealed, again, "a fresh nonce per seal")

	empty, err := c.Seal("")
	require.NoError(t, err)
	require.Nil(t, empty)
	s, err := c.Open(nil)
	require.NoError(t, err)
	require.Empty(t, s)
}

func TestTamperingIsDetected(t *testing.T) {
	c, _ := tokencipher.NewTokenCipher([][]byte{[]byte("k1")})
	sealed, _ := c.Seal("refresh-token")
	for i := range sealed {
		bad := bytes.Clone(sealed)
		bad[i] ^= 0x01
		_, err := c.Open(bad)
		require.ErrorIs(t, err, tokencipher.ErrUndecryptable, "flipping byte %d", i)
	}
	_, err := c.Open(sealed[:10])
	require.ErrorIs(t, err, tokencipher.ErrUndecryptable)
}

func TestKeyRotation(t *testing.T) {
	old, _ := tokencipher.NewTokenCipher([][]byte{[]byte("old")})
	sealedOld, _ := old.Seal("token-from-before")

	rotated, _ := tokencipher.NewTokenCipher([][]byte{[]byte("new"), []byte("old")})
	got, err := rotated.Open(sealedOld)
	require.NoError(t, err, "old values still open after rotation")
	require.Equal(t, "token-from-before", got)

	sealedNew, _ := rotated.Seal("token-after")
	_, err = old.Open(sealedNew)
	require.ErrorIs(t, err, tokencipher.ErrUndecryptable, "the first secret seals")

	dropped, _ := tokencipher.NewTokenCipher([][]byte{[]byte("new")})
	_, err = dropped.Open(sealedOld)
	require.ErrorIs(t, err, tokencipher.ErrUndecryptable)
}
