package main

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// env is the lookup function; tests replace it.
type env func(string) (string, bool)

// configError collects every invalid variable so one start-up shows them all.
type configError struct{ problems []string }

func (e *configError) add(name, format string, args ...any) {
	e.problems = append(e.problems, name+": "+fmt.Sprintf(format, args...))
}

func (e *configError) Error() string {
	return "invalid configuration:\n  " + strings.Join(e.problems, "\n  ")
}

// vars reads variables for the section loaders: every parse helper records
// its problem under the variable's name and carries on, so one run reports
// every mistake instead of stopping at the first.
type vars struct {
	lookup env
	errs   *configError
}

// get returns the first non-empty value among names (a variable and its
// aliases) and the name it came from; with none set, "" and the first name.
func (v vars) get(names ...string) (string, string) {
	for _, n := range names {
		if s, ok := v.lookup(n); ok && strings.TrimSpace(s) != "" {
			return strings.TrimSpace(s), n
		}
	}
	return "", names[0]
}

// set reports whether a variable is present at all, even empty.
func (v vars) set(name string) bool {
	_, ok := v.lookup(name)
	return ok
}

// bool overwrites *dst when one of names is set to a boolean.
func (v vars) bool(dst *bool, names ...string) {
	s, name := v.get(names...)
	if s == "" {
		return
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		v.errs.add(name, "must be true or false, got %q", s)
		return
	}
	*dst = b
}

// intRange overwrites *dst when one of names is set to an integer in
// [lo, hi]; what names the unit in the error ("an integer", "requests per
// second").
func (v vars) intRange(dst *int, lo, hi int, what string, names ...string) {
	s, name := v.get(names...)
	if s == "" {
		return
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		v.errs.add(name, "must be %s from %d to %d, got %q", what, lo, hi, s)
		return
	}
	*dst = n
}

// positiveDuration overwrites *dst when one of names is set to a positive
// duration; example shows the expected form in the error ("8h").
func (v vars) positiveDuration(dst *time.Duration, example string, names ...string) {
	s, name := v.get(names...)
	if s == "" {
		return
	}
	d, err := parseDuration(s)
	if err != nil || d <= 0 {
		v.errs.add(name, "must be a positive duration (%s) or a number of seconds, got %q", example, s)
		return
	}
	*dst = d
}

// parseDuration accepts Go durations ("8h", "90m") and plain seconds ("28800"),
// the unit Auth.js uses for maxAge.
func parseDuration(v string) (time.Duration, error) {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	return time.ParseDuration(v)
}

// parseHTTPURL parses an absolute http or https URL; ok is false for
// anything else (a bare host, another scheme, garbage).
func parseHTTPURL(s string) (*url.URL, bool) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, false
	}
	return u, true
}
