package engine

import (
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

type op uint8

const (
	opEq op = iota
	opContains
	opStartsWith
	opEndsWith
	opRegexp
	opExists
)

var modifiers = map[string]op{
	"contains":   opContains,
	"startswith": opStartsWith,
	"endswith":   opEndsWith,
	"re":         opRegexp,
	"exists":     opExists,
}

// cond is one compiled where/not entry: field, modifier and the values it
// accepts (any of).
type cond struct {
	path   string
	get    schema.Getter
	op     op
	vals   []string // lower-cased needles
	res    []*regexp.Regexp
	exists bool
}

// holds reports whether the event satisfies the condition. It does not
// allocate (the getters of typed fields return existing strings).
func (c *cond) holds(ev *schema.Event) bool {
	v := c.get(ev)
	switch c.op {
	case opExists:
		return (v != "") == c.exists
	case opRegexp:
		for _, re := range c.res {
			if re.MatchString(v) {
				return true
			}
		}
		return false
	}
	if c.op == opEq {
		// Equal lengths is the common case; a non-ASCII value may fold to
		// a needle of another byte length.
		// Whether v is ASCII is settled once, on the first needle of
		// another length.
		nonASCII := -1
		for _, n := range c.vals {
			if len(v) != len(n) {
				if nonASCII < 0 {
					nonASCII = 0
					if hasNonASCII(v) {
						nonASCII = 1
					}
				}
				if nonASCII == 0 {
					continue
				}
			}
			if strings.EqualFold(v, n) {
				return true
			}
		}
		return false
	}
	for _, n := range c.vals {
		switch c.op {
		case opContains:
			if containsFold(v, n) {
				return true
			}
		case opStartsWith:
			if len(v) >= len(n) && strings.EqualFold(v[:len(n)], n) {
				return true
			}
		case opEndsWith:
			if len(v) >= len(n) && strings.EqualFold(v[len(v)-len(n):], n) {
				return true
			}
		}
	}
	return false
}

func hasNonASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// containsFold reports whether needle (lower-case) occurs in s, ignoring
// case, without allocating.
func containsFold(s, needle string) bool {
	if needle == "" {
		return true
	}
	if len(needle) > len(s) {
		return false
	}
	first := needle[0]
	for i := 0; i+len(needle) <= len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != first && s[i] < utf8.RuneSelf && first < utf8.RuneSelf {
			continue
		}
		if strings.EqualFold(s[i:i+len(needle)], needle) {
			return true
		}
	}
	return false
}

func allHold(cs []cond, ev *schema.Event) bool {
	for i := range cs {
		if !cs[i].holds(ev) {
			return false
		}
	}
	return true
}

// matches reports whether the event satisfies where and is not excluded by
// not.
func (r *Rule) matches(ev *schema.Event) bool {
	if !allHold(r.where, ev) {
		return false
	}
	if len(r.not) > 0 && allHold(r.not, ev) {
		return false
	}
	for _, n := range r.notAny {
		if allHold(n, ev) {
			return false
		}
	}
	return true
}

// compileConds compiles a top-level where/not mapping node.
func (c *compiler) compileConds(n *yaml.Node, key string, required bool) []cond {
	return c.compileCondsAt(n, key, required, c.lines[key])
}

// compileCondsAt compiles a where/not mapping node labelled key; line is
// where to report a missing required block.
func (c *compiler) compileCondsAt(n *yaml.Node, key string, required bool, line int) []cond {
	if n.Kind == 0 || n.Tag == "!!null" {
		if required {
			c.errAt(line, "%s: required", key)
		}
		return nil
	}
	if n.Kind != yaml.MappingNode {
		c.errAt(n.Line, "%s: want a mapping of field to value", key)
		return nil
	}
	if len(n.Content) == 0 && required {
		c.errAt(n.Line, "%s: needs at least one entry", key)
	}
	var out []cond
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if cd, ok := c.compileCond(key, k, v); ok {
			out = append(out, cd)
		}
	}
	return out
}

func (c *compiler) compileCond(section string, k, v *yaml.Node) (cond, bool) {
	fieldPath, mod, hasMod := strings.Cut(k.Value, "|")
	cd := cond{path: fieldPath, op: opEq}
	ok := true
	g, found := schema.Field(fieldPath)
	if !found {
		c.errAt(k.Line, "%s: unknown field %q", section, fieldPath)
		ok = false
	}
	cd.get = g
	if hasMod {
		o, known := modifiers[mod]
		if !known {
			c.errAt(k.Line, "%s: %q: unknown modifier %q (want contains, startswith, endswith, re or exists)", section, k.Value, mod)
			return cd, false
		}
		cd.op = o
	}
	var scalars []*yaml.Node
	switch v.Kind {
	case yaml.ScalarNode:
		scalars = []*yaml.Node{v}
	case yaml.SequenceNode:
		if len(v.Content) == 0 {
			c.errAt(v.Line, "%s: %q: empty list", section, k.Value)
			return cd, false
		}
		for _, e := range v.Content {
			if e.Kind != yaml.ScalarNode {
				c.errAt(e.Line, "%s: %q: list items must be scalars", section, k.Value)
				return cd, false
			}
			scalars = append(scalars, e)
		}
	default:
		c.errAt(v.Line, "%s: %q: want a value or a list of values", section, k.Value)
		return cd, false
	}
	for _, s := range scalars {
		if s.Tag == "!!null" {
			c.errAt(s.Line, "%s: %q: null value (use |exists: false)", section, k.Value)
			ok = false
		}
	}
	switch cd.op {
	case opExists:
		if len(scalars) != 1 || scalars[0].Tag != "!!bool" {
			c.errAt(v.Line, "%s: %q: want true or false", section, k.Value)
			return cd, false
		}
		cd.exists = strings.EqualFold(scalars[0].Value, "true")
	case opRegexp:
		for _, s := range scalars {
			re, err := regexp.Compile("(?i)" + s.Value)
			if err != nil {
				c.errAt(s.Line, "%s: %q: bad regular expression %q: %v", section, k.Value, s.Value, err)
				ok = false
				continue
			}
			cd.res = append(cd.res, re)
		}
	default:
		for _, s := range scalars {
			cd.vals = append(cd.vals, strings.ToLower(s.Value))
		}
		if fieldPath == "event.kind" && cd.op == opEq {
			for i, val := range cd.vals {
				if !slices.Contains(schema.EventKinds, schema.EventKind(val)) {
					c.errAt(scalars[i].Line, "%s: event.kind: unknown kind %q", section, val)
					ok = false
				}
			}
		}
	}
	return cd, ok
}
