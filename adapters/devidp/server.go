package devidp

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// DefaultListenAddr is the listen address used when Config.ListenAddr is
// empty: loopback, on a port the system picks.
const DefaultListenAddr = "127.0.0.1:0"

// Config configures the development provider and the one client it knows.
type Config struct {
	// ListenAddr is host:port to listen on. The host must be loopback
	// ("127.0.0.1", "::1" or "localhost"); the default is DefaultListenAddr.
	ListenAddr string
	// ClientID is the OAuth client id of the BFF, e.g. "authbff-dev".
	ClientID string
	// ClientSecret is the client's secret (client_secret_basic or
	// client_secret_post). Empty makes the client public; PKCE is required
	// either way.
	ClientSecret string
	// RedirectURIs are the exact redirect URIs the client may use, e.g.
	// "http://127.0.0.1:4000/api/auth/callback/keycloak".
	RedirectURIs []string
	// PostLogoutRedirectURIs are the exact URIs RP-initiated logout may
	// return to.
	PostLogoutRedirectURIs []string
}

// Server is a running development provider.
type Server struct {
	issuer string
	log    *slog.Logger
	http   *http.Server
	served chan struct{}
}

// Start validates cfg, listens on cfg.ListenAddr at once and serves in a
// goroutine, so discovery works as soon as Start returns. It generates a
// new RSA signing key on every start; nothing outlives the process. It
// refuses to listen anywhere but loopback: anyone who reaches the provider
// can sign in as any demo user, the admin included.
func Start(cfg Config, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.Default()
	}
	if cfg.ListenAddr == "" {
		cfg.ListenAddr = DefaultListenAddr
	}
	host, err := validate(cfg)
	if err != nil {
		return nil, err
	}
	key, err := newSigningKey()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return nil, fmt.Errorf("devidp: listen on %s: %w", cfg.ListenAddr, err)
	}
	_, port, err := net.SplitHostPort(ln.Addr().String())
	if err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("devidp: listen address %s: %w", ln.Addr(), err)
	}
	issuer := "http://" + net.JoinHostPort(host, port)

	handler, err := newHandler(issuer, cfg, key, log)
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	s := &Server{
		issuer: issuer,
		log:    log,
		http:   &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second},
		served: make(chan struct{}),
	}
	go func() {
		defer close(s.served)
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("devidp: server stopped", slog.Any("error", err))
		}
	}()
	log.Warn("devidp: embedded development OpenID provider started; for development only",
		slog.String("issuer", issuer), slog.String("client_id", cfg.ClientID))
	return s, nil
}

// validate checks cfg and returns the host to put in the issuer.
func validate(cfg Config) (string, error) {
	host, _, err := net.SplitHostPort(cfg.ListenAddr)
	if err != nil {
		return "", fmt.Errorf("devidp: listen address %q: %w", cfg.ListenAddr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", fmt.Errorf("devidp: listen address %q is not loopback", cfg.ListenAddr)
	}
	if cfg.ClientID == "" {
		return "", errors.New("devidp: a client id is required")
	}
	if len(cfg.RedirectURIs) == 0 {
		return "", errors.New("devidp: at least one redirect URI is required")
	}
	for _, raw := range slices.Concat(cfg.RedirectURIs, cfg.PostLogoutRedirectURIs) {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
			return "", fmt.Errorf("devidp: redirect URI %q is not an absolute http(s) URL", raw)
		}
	}
	return host, nil
}

// newHandler builds the library's provider on the in-memory storage and
// mounts it with the login UI and the Keycloak compatibility decorators.
func newHandler(issuer string, cfg Config, key *signingKey, log *slog.Logger) (http.Handler, error) {
	c := &client{
		id:                     cfg.ClientID,
		secret:                 cfg.ClientSecret,
		redirectURIs:           slices.Clone(cfg.RedirectURIs),
		postLogoutRedirectURIs: slices.Clone(cfg.PostLogoutRedirectURIs),
		loginURL:               issuer + loginPath,
	}
	st := newStorage(c, key)
	opConfig := &op.Config{
		DefaultLogoutRedirectURI: issuer + loggedOutPath,
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		GrantTypeRefreshToken:    true,
		SupportedScopes: []string{
			oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopeOfflineAccess,
			"roles", "web-origins", "acr", "basic", scopeOrganization,
		},
		SupportedClaims: append(slices.Clone(op.DefaultSupportedClaims),
			"sid", "typ", "realm_access", "resource_access", "organization"),
	}
	// The key encrypts authorization codes; a new one each start is fine.
	if _, err := rand.Read(opConfig.CryptoKey[:]); err != nil {
		return nil, fmt.Errorf("devidp: generate code key: %w", err)
	}
	provider, err := op.NewProvider(opConfig, st, op.StaticIssuer(issuer), op.WithAllowInsecure())
	if err != nil {
		return nil, fmt.Errorf("devidp: create provider: %w", err)
	}

	ui := &loginUI{issuer: issuer, storage: st, provider: provider, log: log}
	authorize := withIssParameter(issuer, c, provider)
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+oidc.DiscoveryEndpoint, discovery(issuer, provider, st))
	mux.HandleFunc("GET "+loginPath, ui.showLogin)
	mux.HandleFunc("POST "+loginSelectPath, ui.selectUser)
	mux.HandleFunc("GET "+loggedOutPath, ui.loggedOut)
	mux.Handle(provider.AuthorizationEndpoint().Relative(), authorize)
	mux.Handle(provider.AuthorizationEndpoint().Relative()+"/callback", authorize)
	mux.Handle(provider.TokenEndpoint().Relative(), withKeycloakTokenFields(st, log, provider))
	mux.Handle(provider.EndSessionEndpoint().Relative(), withLogoutRules(issuer, c, provider, provider))
	mux.Handle("/", provider)
	return mux, nil
}

// Issuer returns the provider's issuer URL, e.g. "http://127.0.0.1:41234".
// Discovery is at Issuer() + "/.well-known/openid-configuration".
func (s *Server) Issuer() string { return s.issuer }

// Close stops the server gracefully, waiting for open requests until ctx
// is done.
func (s *Server) Close(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	select {
	case <-s.served:
	case <-ctx.Done():
	}
	if err != nil {
		return fmt.Errorf("devidp: shut down: %w", err)
	}
	s.log.Info("devidp: stopped", slog.String("issuer", s.issuer))
	return nil
}
