package httpapi

import (
	"errors"
	"net/url"
	"strings"
)

var errBadCallbackURL = errors.New("callbackUrl is not an http(s) URL")

// resolveCallbackURL applies Auth.js's default redirect callback (contract
// C3): a path becomes origin + path; a URL on the app's origin is kept; any
// other URL becomes the origin. So authbff never redirects off-site. A value
// that is not an http(s) URL at all (javascript:, data:, garbage) is an
// error, as Auth.js's config assertion makes it.
func resolveCallbackURL(raw, origin string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return origin, nil
	}
	// Backslashes and control characters are how "/\evil.com" style open
	// redirects slip past naive checks; browsers treat "\" as "/".
	if strings.ContainsAny(raw, "\\\x00\r\n\t") {
		return origin, nil
	}
	if strings.HasPrefix(raw, "/") {
		if strings.HasPrefix(raw, "//") {
			return origin, nil // protocol-relative: another host
		}
		u, err := url.Parse(origin + raw)
		if err != nil || u.Scheme+"://"+u.Host != origin {
			return origin, nil
		}
		return u.String(), nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", errBadCallbackURL
	}
	if u.User != nil || u.Scheme+"://"+u.Host != origin {
		return origin, nil
	}
	return u.String(), nil
}
