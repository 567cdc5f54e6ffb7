// Package secret holds Secret, a configuration value that never prints:
// passwords, tokens, client secrets. It sits low in the tree so that sinks
// (which must not import connector) and config share one type.
package secret

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"gopkg.in/yaml.v3"
)

// redacted is what a non-empty Secret prints as.
const redacted = "[REDACTED]"

// Secret is a configuration value that must never be printed or logged:
// a password, a token, a client secret. Every way of turning it into text
// (fmt verbs including %#v, encoding.TextMarshaler, JSON, YAML, log/slog)
// yields "[REDACTED]"; an empty Secret yields "" so that a missing value
// stays recognisable. [Secret.Value] returns the real value.
//
// fmt can only redact a Secret held in an exported struct field (or passed
// directly): fmt reads unexported fields without calling their methods.
type Secret string

// Value returns the secret in clear text, for the one place that needs it.
func (s Secret) Value() string { return string(s) }

// String returns "[REDACTED]", or "" for an empty Secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString returns the redacted text quoted, so %#v never shows the value.
func (s Secret) GoString() string { return fmt.Sprintf("%q", s.String()) }

// Format implements fmt.Formatter: every verb prints the redacted text
// (%q quoted).
func (s Secret) Format(f fmt.State, verb rune) {
	switch verb {
	case 'q':
		fmt.Fprintf(f, "%q", s.String())
	case 'v':
		if f.Flag('#') {
			_, _ = io.WriteString(f, s.GoString())
			return
		}
		_, _ = io.WriteString(f, s.String())
	default:
		_, _ = io.WriteString(f, s.String())
	}
}

// MarshalText implements encoding.TextMarshaler with the redacted text.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// MarshalJSON implements json.Marshaler with the redacted text.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalYAML implements yaml.Marshaler with the redacted text.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// LogValue implements slog.LogValuer with the redacted text.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// UnmarshalYAML reads a secret from a plain YAML scalar (after ${env:NAME}
// substitution). Mappings and sequences are rejected.
func (s *Secret) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		kind := "a sequence"
		if n.Kind == yaml.MappingNode {
			kind = "a mapping"
		}
		return fmt.Errorf("must be a string, got %s", kind)
	}
	if n.ShortTag() == "!!null" {
		*s = ""
		return nil
	}
	*s = Secret(n.Value)
	return nil
}
