package httpapi

import (
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// pageCSP is the Content-Security-Policy of a built-in page. Browsers
// (Chromium at least) apply form-action to every redirect that answers the
// form's POST, so a page whose form leads on to the IdP must name the IdP's
// origin: 'self' plus exactly those origins, nothing wider. A page without
// a form allows no form target at all.
func pageCSP(hasForm bool, formTargets []string) string {
	formAction := "'none'"
	if hasForm {
		sources := []string{"'self'"}
		for _, t := range formTargets {
			if o := cspOrigin(t); o != "" && !slices.Contains(sources, o) {
				sources = append(sources, o)
			}
		}
		formAction = strings.Join(sources, " ")
	}
	return "default-src 'none'; style-src " + styleSource + "; script-src " + scriptSource + "; form-action " +
		formAction + "; frame-ancestors 'none'; base-uri 'none'"
}

// styleSource and scriptSource allow the pages' one inline style and one
// inline script by hash, and nothing else inline.
var (
	styleSource  = cspHash(pageStyle)
	scriptSource = cspHash(autoSubmitScript)
)

func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// cspOriginPattern is what a scheme://host[:port] source may look like; it
// keeps anything that could end or widen a directive (spaces, ';', '*',
// quotes) out of the header.
var cspOriginPattern = regexp.MustCompile(`^https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$`)

// cspOrigin returns the origin of an absolute http(s) URL as a CSP source,
// or "" for anything else.
func cspOrigin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	o := strings.ToLower(u.Scheme) + "://" + u.Host
	if !cspOriginPattern.MatchString(o) {
		return ""
	}
	return o
}
