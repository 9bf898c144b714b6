package httpapi

import (
	"errors"
	"net/url"
	"strings"
)

var errBadCallbackURL = errors.New("callbackUrl is not an http(s) URL")

// maxCallbackURL bounds a callbackUrl as sent (2 KiB): app URLs are far
// shorter, and it is copied into the callback-url cookie.
const maxCallbackURL = 2 << 10

// maxCallbackCookieValue bounds the URL-encoded value the callback-url
// cookie would carry, so its Set-Cookie stays under 4096 bytes with the
// longest name and attributes (encoding can triple a URL's length).
const maxCallbackCookieValue = 3 << 10

// resolveCallbackURL applies Auth.js's default redirect callback (contract
// C3): a path becomes origin + path; a URL on the app's origin is kept; any
// other URL becomes the origin. So authbff never redirects off-site. A value
// that is not an http(s) URL at all (javascript:, data:, garbage) is an
// error, as Auth.js's config assertion makes it.
//
// A value over maxCallbackURL, or whose cookie form would exceed
// maxCallbackCookieValue, is refused like any invalid one.
func resolveCallbackURL(raw, origin string) (string, error) {
	if len(raw) > maxCallbackURL {
		return "", errBadCallbackURL
	}
	if raw == origin {
		// Most requests carry the origin itself in the callback-URL cookie;
		// it resolves to itself (TestOriginResolvesToItself) without parsing.
		return origin, nil
	}
	got, err := resolveCallbackURLUnbounded(raw, origin)
	if err == nil && len(url.QueryEscape(got)) > maxCallbackCookieValue {
		return "", errBadCallbackURL
	}
	return got, err
}

func resolveCallbackURLUnbounded(raw, origin string) (string, error) {
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
