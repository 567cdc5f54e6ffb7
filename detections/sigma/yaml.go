package sigma

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"
)

// The YAML of a rule is converted into a small tree that keeps the source
// text of scalars (so 0x10 stays "0x10", not 16), key order and lines.

// scalar is a YAML scalar with its source text and resolved tag (!!str,
// !!int, !!bool, !!float, !!null).
type scalar struct {
	text string
	tag  string
	line int
}

// mapping is a YAML mapping in source order.
type mapping struct {
	keys []string
	vals []any
	line int
}

// sequence is a YAML sequence.
type sequence struct {
	items []any
	line  int
}

func (m *mapping) get(key string) (any, bool) {
	if m == nil {
		return nil, false
	}
	for i, k := range m.keys {
		if k == key {
			return m.vals[i], true
		}
	}
	return nil, false
}

func (m *mapping) set(key string, v any) {
	for i, k := range m.keys {
		if k == key {
			m.vals[i] = v
			return
		}
	}
	m.keys = append(m.keys, key)
	m.vals = append(m.vals, v)
}

// maxYAMLNodes bounds the size of one document (alias expansion included).
const maxYAMLNodes = 200_000

// maxYAMLDepth bounds nesting.
const maxYAMLDepth = 64

var errTooLarge = errors.New("document too large or too deeply nested")

// convert turns a yaml.Node into scalar / *mapping / *sequence / nil.
func convert(n *yaml.Node, budget *int, depth int) (any, error) {
	*budget--
	if *budget < 0 || depth > maxYAMLDepth {
		return nil, errTooLarge
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return convert(n.Content[0], budget, depth+1)
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil, nil
		}
		return convert(n.Alias, budget, depth+1)
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return nil, nil
		}
		return scalar{text: n.Value, tag: n.ShortTag(), line: n.Line}, nil
	case yaml.MappingNode:
		m := &mapping{line: n.Line}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: mapping key is not a scalar", k.Line)
			}
			if k.Value == "<<" && k.ShortTag() == "!!merge" {
				return nil, fmt.Errorf("line %d: YAML merge keys are not supported", k.Line)
			}
			v, err := convert(n.Content[i+1], budget, depth+1)
			if err != nil {
				return nil, err
			}
			m.set(k.Value, v)
		}
		return m, nil
	case yaml.SequenceNode:
		s := &sequence{line: n.Line, items: make([]any, 0, len(n.Content))}
		for _, c := range n.Content {
			v, err := convert(c, budget, depth+1)
			if err != nil {
				return nil, err
			}
			s.items = append(s.items, v)
		}
		return s, nil
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node", n.Line)
}

// documents decodes every YAML document of data.
func documents(data []byte) ([]*mapping, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []*mapping
	budget := maxYAMLNodes
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		v, err := convert(&n, &budget, 0)
		if err != nil {
			return nil, err
		}
		if v == nil {
			continue // empty document
		}
		m, ok := v.(*mapping)
		if !ok {
			return nil, fmt.Errorf("document at line %d is not a mapping", n.Line)
		}
		out = append(out, m)
	}
	return out, nil
}

// merge deep-merges src into a copy of dst (Sigma action: global / repeat):
// mappings merge key by key, anything else is replaced.
func merge(dst, src *mapping) *mapping {
	out := &mapping{line: src.line, keys: append([]string(nil), dst.keys...), vals: append([]any(nil), dst.vals...)}
	for i, k := range src.keys {
		sv := src.vals[i]
		if dv, ok := out.get(k); ok {
			dm, ok1 := dv.(*mapping)
			sm, ok2 := sv.(*mapping)
			if ok1 && ok2 {
				out.set(k, merge(dm, sm))
				continue
			}
		}
		out.set(k, sv)
	}
	return out
}

// str reads a scalar as a string ("" when absent or not a scalar).
func str(m *mapping, key string) string {
	v, _ := m.get(key)
	if s, ok := v.(scalar); ok {
		return strings.TrimSpace(s.text)
	}
	return ""
}

// strList reads a scalar or a sequence of scalars.
func strList(v any) []string {
	switch t := v.(type) {
	case scalar:
		return []string{t.text}
	case *sequence:
		out := make([]string, 0, len(t.items))
		for _, it := range t.items {
			if s, ok := it.(scalar); ok {
				out = append(out, s.text)
			}
		}
		return out
	}
	return nil
}

func lineOf(v any) int {
	switch t := v.(type) {
	case scalar:
		return t.line
	case *mapping:
		return t.line
	case *sequence:
		return t.line
	}
	return 0
}
