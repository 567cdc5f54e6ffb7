package config

import (
	"fmt"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

const (
	envOpen   = "${env:"
	envEscape = "$${env:"
)

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// substituteEnv replaces ${env:NAME} references in every scalar value of
// the tree (mapping keys are left alone), reporting each problem with its
// path. It works on nodes, never on raw text, so a value cannot inject
// structure.
func substituteEnv(d *decoder, n *yaml.Node, path string, lookup func(string) (string, bool)) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			substituteEnv(d, c, path, lookup)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			substituteEnv(d, n.Content[i+1], joinPath(path, k.Value), lookup)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			substituteEnv(d, c, fmt.Sprintf("%s[%d]", path, i), lookup)
		}
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, envOpen) {
			return
		}
		out, errs := expandEnv(n.Value, lookup)
		for _, err := range errs {
			d.add(n.Line, path, err)
		}
		if out == n.Value {
			return
		}
		n.Value = out
		if n.Style&yaml.TaggedStyle == 0 {
			// Resolve the type again from the new value, quoted or not, so
			// "batch_size: ${env:N}" and batch_size: "${env:N}" both decode
			// as an integer (string fields accept any scalar); never let a
			// substituted value turn into null.
			n.Style &^= yaml.SingleQuotedStyle | yaml.DoubleQuotedStyle | yaml.LiteralStyle | yaml.FoldedStyle
			n.Tag = ""
			if n.ShortTag() == "!!null" {
				n.Tag = "!!str"
			}
		}
	}
	// Alias nodes point at an anchor substituted where it is defined.
}

// expandEnv replaces ${env:NAME} in s. "$${env:NAME}" yields the literal
// "${env:NAME}"; any other "$" is kept as is. A missing variable expands to
// "" and is reported.
func expandEnv(s string, lookup func(string) (string, bool)) (string, []error) {
	var b strings.Builder
	var errs []error
	for {
		i := strings.Index(s, envOpen)
		if i < 0 {
			b.WriteString(s)
			return b.String(), errs
		}
		end := strings.IndexByte(s[i:], '}')
		if i > 0 && s[i-1] == '$' { // escaped: "$${env:...}"
			b.WriteString(s[:i-1])
			if end < 0 {
				b.WriteString(s[i:])
				return b.String(), errs
			}
			b.WriteString(s[i : i+end+1])
			s = s[i+end+1:]
			continue
		}
		b.WriteString(s[:i])
		if end < 0 {
			errs = append(errs, fmt.Errorf("unterminated %s...} reference", envOpen))
			b.WriteString(s[i:])
			return b.String(), errs
		}
		name := s[i+len(envOpen) : i+end]
		s = s[i+end+1:]
		if !envNameRE.MatchString(name) {
			errs = append(errs, fmt.Errorf("invalid environment variable name %q in ${env:...}", name))
			continue
		}
		val, ok := lookup(name)
		if !ok {
			errs = append(errs, fmt.Errorf("environment variable %s is not set", name))
			continue
		}
		b.WriteString(val)
	}
}
