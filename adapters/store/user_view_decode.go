package store

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// userView is sessions.user_view: the user's name, email and image, and the
// roles and organizations snapshot, as one JSON object.
type userView struct {
	Name  string      `json:"n"`
	Email string      `json:"e"`
	Image string      `json:"i"`
	Roles [][2]string `json:"r"`
	Orgs  [][5]string `json:"o"`
}

// decodeUserView reads sessions.user_view. authbff's triggers write it in
// one shape, {"n": …, "e": …, "i": …, "r": [[…, …], …], "o": [[…×5], …]},
// so parseUserView reads exactly that without reflection: decoding it with
// encoding/json was the largest Go cost of an uncached session read.
// Anything else (an escape in a string, invalid UTF-8, another key order,
// a null) goes to encoding/json; FuzzParseUserView holds the two to the
// same answers.
func decodeUserView(s string) (userView, error) {
	if v, ok := parseUserView(s); ok {
		return v, nil
	}
	var v userView
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return userView{}, fmt.Errorf("decode sessions.user_view: %w", err)
	}
	return v, nil
}

// parseUserView parses the common shape, or reports false.
func parseUserView(s string) (v userView, ok bool) {
	p := jsonScanner{s: s}
	if !p.byte('{') {
		return v, false
	}
	for i, key := range [...]string{"n", "e", "i", "r", "o"} {
		if i > 0 && !p.byte(',') {
			return v, false
		}
		if k, ok := p.str(); !ok || k != key || !p.byte(':') {
			return v, false
		}
		switch key {
		case "n":
			v.Name, ok = p.str()
		case "e":
			v.Email, ok = p.str()
		case "i":
			v.Image, ok = p.str()
		case "r":
			v.Roles, ok = tuples(&p, func(t *[2]string) []string { return t[:] })
		case "o":
			v.Orgs, ok = tuples(&p, func(t *[5]string) []string { return t[:] })
		}
		if !ok {
			return v, false
		}
	}
	if !p.byte('}') {
		return v, false
	}
	p.space()
	return v, p.i == len(p.s)
}

// jsonScanner reads the few JSON forms parseUserView accepts.
type jsonScanner struct {
	s string
	i int
}

func (p *jsonScanner) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

// byte consumes c after optional whitespace.
func (p *jsonScanner) byte(c byte) bool {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// str reads a string without escapes or control characters, in valid
// UTF-8: those are what encoding/json returns unchanged.
func (p *jsonScanner) str() (string, bool) {
	if !p.byte('"') {
		return "", false
	}
	for j := p.i; j < len(p.s); j++ {
		switch c := p.s[j]; {
		case c == '"':
			v := p.s[p.i:j]
			if !utf8.ValidString(v) {
				return "", false
			}
			p.i = j + 1
			return v, true
		case c == '\\' || c < 0x20:
			return "", false
		}
	}
	return "", false
}

// tuples reads an array of arrays of exactly len(slot(&t)) strings.
func tuples[T any](p *jsonScanner, slot func(*T) []string) ([]T, bool) {
	if !p.byte('[') {
		return nil, false
	}
	out := []T{}
	if p.byte(']') {
		return out, true
	}
	for {
		var t T
		if !p.byte('[') {
			return nil, false
		}
		fields := slot(&t)
		for k := range fields {
			if k > 0 && !p.byte(',') {
				return nil, false
			}
			var ok bool
			if fields[k], ok = p.str(); !ok {
				return nil, false
			}
		}
		if !p.byte(']') {
			return nil, false
		}
		out = append(out, t)
		if p.byte(']') {
			return out, true
		}
		if !p.byte(',') {
			return nil, false
		}
	}
}
