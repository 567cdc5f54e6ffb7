package config

import (
	"errors"
	"fmt"
	"net"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// FieldError is one problem found by Validate, at a configuration path such
// as "sinks.file.path" or "sources.winjson/dc01.batch_size".
type FieldError struct {
	Path string
	Err  error
}

// Error returns Path + ": " + Err.Error().
func (e *FieldError) Error() string {
	if e.Path == "" {
		return e.Err.Error()
	}
	return e.Path + ": " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *FieldError) Unwrap() error { return e.Err }

// ErrRequired is the error of a FieldError for a missing value.
var ErrRequired = errors.New("required")

var (
	logLevels  = []string{"debug", "info", "warn", "error"}
	logFormats = []string{"text", "json"}
)

// Validate checks the whole configuration, including every component's own
// Validate, and returns all problems joined (nil if none). Each problem is a
// *FieldError with its full path. Validate does no I/O.
func (c *Config) Validate() error {
	var v validation
	if strings.TrimSpace(c.State.Path) == "" {
		v.add("state.path", ErrRequired)
	}
	v.oneOf("log.level", c.Log.Level, logLevels)
	v.oneOf("log.format", c.Log.Format, logFormats)

	v.components("sources", c.Sources)

	v.entries("detections.rules", c.Detections.Rules)
	v.entries("detections.disabled", c.Detections.Disabled)
	v.entries("detections.domain_controllers", c.Detections.DomainControllers)
	v.entries("detections.honeytokens", c.Detections.Honeytokens)
	v.positive("detections.max_keys_per_rule", c.Detections.MaxKeysPerRule)

	if c.Correlation.Window <= 0 {
		v.add("correlation.window", errors.New("must be positive"))
	}
	v.positive("correlation.max_open_incidents", c.Correlation.MaxOpenIncidents)

	if c.Metrics.Listen != "" {
		if _, port, err := net.SplitHostPort(c.Metrics.Listen); err != nil {
			v.add("metrics.listen", err)
		} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			v.add("metrics.listen", fmt.Errorf("invalid port %q", port))
		}
	}

	if len(c.Sinks) == 0 {
		v.add("sinks", errors.New("at least one sink is required"))
	}
	v.components("sinks", c.Sinks)
	c.Response.validate(&v)
	c.Posture.validate(&v, c.Sinks)
	return errors.Join(v.errs...)
}

type validation struct{ errs []error }

func (v *validation) add(path string, err error) {
	v.errs = append(v.errs, &FieldError{Path: path, Err: err})
}

func (v *validation) oneOf(path, got string, allowed []string) {
	if got == "" {
		v.add(path, ErrRequired)
		return
	}
	if !slices.Contains(allowed, got) {
		v.add(path, fmt.Errorf("must be one of %s (got %q)", strings.Join(allowed, ", "), got))
	}
}

func (v *validation) positive(path string, n int) {
	if n <= 0 {
		v.add(path, fmt.Errorf("must be > 0 (got %d)", n))
	}
}

func (v *validation) entries(path string, list []string) {
	for i, s := range list {
		if strings.TrimSpace(s) == "" {
			v.add(fmt.Sprintf("%s[%d]", path, i), errors.New("must not be empty"))
		}
	}
}

func (v *validation) components(path string, comps map[string]Component) {
	for _, id := range slices.Sorted(mapKeys(comps)) {
		c := comps[id]
		cpath := path + "." + id
		if c.Config == nil || isNilPointer(c.Config) {
			v.add(cpath, errors.New("no configuration"))
			continue
		}
		for _, err := range leaves(c.Config.Validate()) {
			v.errs = append(v.errs, prefixed(cpath, err))
		}
	}
}

func isNilPointer(v any) bool {
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

// leaves flattens errors.Join trees (anything with Unwrap() []error) into
// their leaf errors, in order.
func leaves(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, leaves(e)...)
		}
		return out
	}
	return []error{err}
}

// fieldHeadRE matches the "field" of a component problem worded
// "field: problem" (e.g. "batch_size", "tls.ca_file", "paths[0]").
var fieldHeadRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_./\[\]-]*$`)

// prefixed puts a component problem under the component's path:
// *FieldError{Path: "batch_size"} and "batch_size: must be > 0" both become
// "<prefix>.batch_size: must be > 0"; a problem without a field becomes
// "<prefix>: problem".
func prefixed(prefix string, err error) *FieldError {
	if fe, ok := err.(*FieldError); ok {
		return &FieldError{Path: joinPath(prefix, fe.Path), Err: fe.Err}
	}
	msg := err.Error()
	if head, rest, ok := strings.Cut(msg, ": "); ok && fieldHeadRE.MatchString(head) {
		return &FieldError{Path: prefix + "." + head, Err: &trimmedError{msg: rest, err: err}}
	}
	return &FieldError{Path: prefix, Err: err}
}

// trimmedError shows msg (the original message minus its field) and
// unwraps to the original error so errors.Is/As still work.
type trimmedError struct {
	msg string
	err error
}

func (e *trimmedError) Error() string { return e.msg }
func (e *trimmedError) Unwrap() error { return e.err }

// Problems flattens a (possibly joined, possibly nil) error into one line
// per problem, in the order they occurred, for display by the CLI.
func Problems(err error) []string {
	var out []string
	for _, e := range leaves(err) {
		for line := range strings.SplitSeq(e.Error(), "\n") {
			if strings.TrimSpace(line) != "" {
				out = append(out, line)
			}
		}
	}
	return out
}
