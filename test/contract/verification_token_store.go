package contract

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/domain"
)

// VerificationTokenStore checks an implementation of
// ports.VerificationTokenStore.
func VerificationTokenStore(t *testing.T, newEnv func(t *testing.T) Env) {
	t.Run("case=save then consume round-trips", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		v := verificationToken("alice@example.com", base.Add(time.Hour))
		require.NoError(t, env.VerificationTokens.Save(t.Context(), v))

		got, err := env.VerificationTokens.Consume(t.Context(), v.Identifier, v.TokenHash, base)
		require.NoError(t, err)
		require.Equal(t, v.Identifier, got.Identifier)
		require.Equal(t, v.TokenHash, got.TokenHash)
		require.Equal(t, micro(v.Expires), micro(got.Expires))
	})

	t.Run("case=a token is consumed once", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		v := verificationToken("alice@example.com", base.Add(time.Hour))
		require.NoError(t, env.VerificationTokens.Save(t.Context(), v))
		_, err := env.VerificationTokens.Consume(t.Context(), v.Identifier, v.TokenHash, base)
		require.NoError(t, err)
		_, err = env.VerificationTokens.Consume(t.Context(), v.Identifier, v.TokenHash, base)
		require.ErrorIs(t, err, domain.ErrVerificationTokenNotFound)
	})

	t.Run("case=save of an existing pair returns ErrConflict", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		v := verificationToken("alice@example.com", base.Add(time.Hour))
		require.NoError(t, env.VerificationTokens.Save(t.Context(), v))
		dup := v
		dup.Expires = base.Add(48 * time.Hour)
		require.ErrorIs(t, env.VerificationTokens.Save(t.Context(), dup), domain.ErrConflict)

		// The same hash for another identifier is another token.
		other := v
		other.Identifier = "bob@example.com"
		require.NoError(t, env.VerificationTokens.Save(t.Context(), other))

		got, err := env.VerificationTokens.Consume(t.Context(), v.Identifier, v.TokenHash, base)
		require.NoError(t, err)
		require.Equal(t, micro(v.Expires), micro(got.Expires), "the first token is untouched")
		_, err = env.VerificationTokens.Consume(t.Context(), other.Identifier, other.TokenHash, base)
		require.NoError(t, err)
	})

	t.Run("case=identifier, hash and expiry must all match", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		v := verificationToken("alice@example.com", now.Add(time.Hour))
		require.NoError(t, env.VerificationTokens.Save(t.Context(), v))
		otherHash := verificationToken("alice@example.com", now.Add(time.Hour))
		require.NoError(t, env.VerificationTokens.Save(t.Context(), otherHash))

		cases := []struct {
			name       string
			identifier string
			hash       domain.TokenHash
			at         time.Time
		}{
			{"wrong identifier", "mallory@example.com", v.TokenHash, now},
			{"empty identifier", "", v.TokenHash, now},
			{"wrong hash", v.Identifier, domain.HashSecret("guess"), now},
			{"empty hash", v.Identifier, "", now},
			{"expired exactly now", v.Identifier, v.TokenHash, v.Expires},
			{"expired long ago", v.Identifier, v.TokenHash, v.Expires.Add(24 * time.Hour)},
		}
		for _, tc := range cases {
			_, err := env.VerificationTokens.Consume(t.Context(), tc.identifier, tc.hash, tc.at)
			require.ErrorIs(t, err, domain.ErrVerificationTokenNotFound, tc.name)
		}
		got, err := env.VerificationTokens.Consume(t.Context(), v.Identifier, v.TokenHash, v.Expires.Add(-time.Microsecond))
		require.NoError(t, err, "none of the failed attempts used the token up")
		require.Equal(t, v.TokenHash, got.TokenHash)
		got, err = env.VerificationTokens.Consume(t.Context(), otherHash.Identifier, otherHash.TokenHash, now)
		require.NoError(t, err)
		require.Equal(t, otherHash.TokenHash, got.TokenHash)
	})

	t.Run("case=times in any zone compare as instants", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		tokyo, newYork := time.FixedZone("UTC+9", 9*3600), time.FixedZone("UTC-5", -5*3600)
		live := verificationToken("a@example.com", now.Add(time.Minute).In(newYork))
		dead := verificationToken("a@example.com", now.Add(-time.Minute).In(tokyo))
		require.NoError(t, env.VerificationTokens.Save(t.Context(), live))
		require.NoError(t, env.VerificationTokens.Save(t.Context(), dead))

		_, err := env.VerificationTokens.Consume(t.Context(), dead.Identifier, dead.TokenHash, now.In(newYork))
		require.ErrorIs(t, err, domain.ErrVerificationTokenNotFound)
		n, err := env.VerificationTokens.DeleteExpired(t.Context(), now.In(newYork), 10)
		require.NoError(t, err)
		require.EqualValues(t, 1, n)
		got, err := env.VerificationTokens.Consume(t.Context(), live.Identifier, live.TokenHash, now.In(tokyo))
		require.NoError(t, err)
		require.True(t, got.Expires.Equal(live.Expires))
	})

	t.Run("case=delete expired in batches", func(t *testing.T) {
		t.Parallel()
		env := newEnv(t)
		var live []domain.VerificationToken
		for i := 0; i < 5; i++ { // expired: the last one exactly at now
			require.NoError(t, env.VerificationTokens.Save(t.Context(),
				verificationToken("expired@example.com", now.Add(-time.Duration(4-i)*time.Minute))))
		}
		for i := 0; i < 2; i++ {
			v := verificationToken("live@example.com", now.Add(time.Duration(i+1)*time.Microsecond))
			live = append(live, v)
			require.NoError(t, env.VerificationTokens.Save(t.Context(), v))
		}

		var batches []int64
		for {
			n, err := env.VerificationTokens.DeleteExpired(t.Context(), now, 2)
			require.NoError(t, err)
			batches = append(batches, n)
			if n < 2 {
				break
			}
			require.Less(t, len(batches), 10)
		}
		require.Equal(t, []int64{2, 2, 1}, batches)
		for _, v := range live {
			_, err := env.VerificationTokens.Consume(t.Context(), v.Identifier, v.TokenHash, now)
			require.NoError(t, err)
		}
	})
}

func verificationToken(identifier string, expires time.Time) domain.VerificationToken {
	return domain.VerificationToken{
		Identifier: identifier,
		TokenHash:  domain.HashSecret(string(domain.NewSessionToken())),
		Expires:    expires,
	}
}
