package application

import (
	"errors"

	"github.com/authbff/authbff/ports"
)

// Sign-in errors. The HTTP adapter maps them to the Auth.js error types
// (Configuration, OAuthCallbackError, AccessDenied, ...).
var (
	// ErrUnknownProvider means the provider id in the route is not configured.
	ErrUnknownProvider = errors.New("unknown provider")
	// ErrSignInCheckFailed means the callback does not belong to a sign-in
	// this browser started: unknown, replayed or expired state, or a missing
	// browser binding. Auth.js calls this InvalidCheck.
	ErrSignInCheckFailed = errors.New("sign-in check failed")
	// ErrProviderError means the IdP answered the authorization request with
	// an error (e.g. access_denied), or the callback is malformed.
	ErrProviderError = errors.New("identity provider returned an error")
	// ErrIssuerMismatch means the callback's RFC 9207 `iss` is not the
	// issuer the sign-in started with (a mix-up attack), or is missing
	// although the IdP always sends it.
	ErrIssuerMismatch = errors.New("callback issuer mismatch")
	// ErrNoSuchSession means the session id names none of the caller's
	// sessions (another user's session is reported the same way).
	ErrNoSuchSession = errors.New("no such session")
)

// ErrAuthorizationFailed is the IdP adapter's verdict that a code or token
// failed verification, re-exported so driving adapters can test for it
// without importing ports.
var ErrAuthorizationFailed = ports.ErrAuthorizationFailed

// ErrTooManyPendingSignIns means the cap on started-but-unfinished sign-ins
// is reached, so anonymous floods cannot fill the database: the store's
// verdict, re-exported for driving adapters.
var ErrTooManyPendingSignIns = ports.ErrTooManyPendingLoginFlows

// ErrRefreshRejected is the IdP's final refusal of a refresh token,
// re-exported for driving adapters.
var ErrRefreshRejected = ports.ErrRefreshRejected
