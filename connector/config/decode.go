package config

import (
	"bytes"
	"encoding"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// DecodeError is one problem found by [Parse]: where it is in the file and
// in the configuration tree, and what is wrong.
type DecodeError struct {
	File string // as passed to Parse; may be empty
	Line int    // 1-based; 0 when unknown
	Path string // dotted path such as "sinks.file"; empty for the document root
	Err  error
}

// Error formats the problem as "file:line: path: message".
func (e *DecodeError) Error() string {
	var b strings.Builder
	switch {
	case e.File != "" && e.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	case e.File != "":
		b.WriteString(e.File + ": ")
	case e.Line > 0:
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the underlying error.
func (e *DecodeError) Unwrap() error { return e.Err }

// Limits that keep hostile input (deep nesting, alias bombs) bounded.
const (
	maxDepth   = 64
	maxAliases = 1000
	maxErrors  = 100
)

var (
	componentNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)
	yamlLineRE      = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	durationType    = reflect.TypeFor[time.Duration]()
	timeType        = reflect.TypeFor[time.Time]()
	nodeType        = reflect.TypeFor[yaml.Node]()
	unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// decoder walks a yaml.Node tree into typed values, collecting every
// problem instead of stopping at the first.
type decoder struct {
	file    string
	errs    []*DecodeError
	aliases int
}

func (d *decoder) errorf(line int, path, format string, args ...any) {
	d.add(line, path, fmt.Errorf(format, args...))
}

func (d *decoder) add(line int, path string, err error) {
	d.errs = append(d.errs, &DecodeError{File: d.file, Line: line, Path: path, Err: err})
}

func (d *decoder) err() error {
	if len(d.errs) == 0 {
		return nil
	}
	sort.SliceStable(d.errs, func(i, j int) bool { return d.errs[i].Line < d.errs[j].Line })
	errs := make([]error, 0, len(d.errs))
	for i, e := range d.errs {
		if i == maxErrors {
			errs = append(errs, &DecodeError{File: d.file, Err: fmt.Errorf("too many errors (%d more not shown)", len(d.errs)-maxErrors)})
			break
		}
		errs = append(errs, e)
	}
	return errors.Join(errs...)
}

func parse(data []byte, file string, reg Registry, lookup func(string) (string, bool)) (*Config, error) {
	d := &decoder{file: file}
	cfg := Default()

	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) { // empty file: all defaults
			return cfg, nil
		}
		return nil, d.syntaxError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, d.syntaxError(err)
		}
		return nil, &DecodeError{File: file, Line: extra.Line, Err: errors.New("the file holds more than one YAML document")}
	}

	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return cfg, nil
		}
		root = root.Content[0]
	}

	substituteEnv(d, root, "", lookup)

	switch {
	case isNull(root):
		// A document holding only comments or "~": all defaults.
	case root.Kind != yaml.MappingNode:
		d.errorf(root.Line, "", "the configuration must be a mapping, got %s", kindName(root.Kind))
	default:
		d.decodeRoot(root, cfg, reg)
	}
	if err := d.err(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// syntaxError turns a yaml.v3 parse error into a *DecodeError with a line.
func (d *decoder) syntaxError(err error) error {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &DecodeError{File: d.file, Line: line, Err: errors.New(m[2])}
	}
	return &DecodeError{File: d.file, Err: errors.New(strings.TrimPrefix(msg, "yaml: "))}
}

// decodeRoot decodes the top-level mapping: the plain sections through the
// generic walker, sources and sinks through the registry.
func (d *decoder) decodeRoot(root *yaml.Node, cfg *Config, reg Registry) {
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		key, ok := d.key(k, "", seen)
		if !ok {
			continue
		}
		switch key {
		case "state":
			d.decode(v, "state", reflect.ValueOf(&cfg.State).Elem(), 0)
		case "log":
			d.decode(v, "log", reflect.ValueOf(&cfg.Log).Elem(), 0)
		case "detections":
			d.decode(v, "detections", reflect.ValueOf(&cfg.Detections).Elem(), 0)
		case "correlation":
			d.decode(v, "correlation", reflect.ValueOf(&cfg.Correlation).Elem(), 0)
		case "metrics":
			d.decode(v, "metrics", reflect.ValueOf(&cfg.Metrics).Elem(), 0)
		case "sources":
			d.components(v, "sources", "source", reg.Sources, cfg.Sources)
		case "sinks":
			d.components(v, "sinks", "sink", reg.Sinks, cfg.Sinks)
		case "response":
			d.decode(v, "response", reflect.ValueOf(&cfg.Response).Elem(), 0)
		case "posture":
			d.posture(v, &cfg.Posture, reg.Posture)
		default:
			d.unknown(k, "", key, []string{"state", "log", "metrics", "sources", "detections", "correlation", "sinks", "response", "posture"})
		}
	}
}

// key reads a mapping key, reporting non-string and duplicate keys.
func (d *decoder) key(k *yaml.Node, path string, seen map[string]int) (string, bool) {
	if k.Kind != yaml.ScalarNode {
		d.errorf(k.Line, path, "mapping keys must be strings, got %s", kindName(k.Kind))
		return "", false
	}
	if first, dup := seen[k.Value]; dup {
		d.errorf(k.Line, path, "duplicate key %q (first at line %d)", k.Value, first)
		return "", false
	}
	seen[k.Value] = k.Line
	return k.Value, true
}

func (d *decoder) unknown(k *yaml.Node, path, key string, known []string) {
	msg := fmt.Sprintf("unknown field %q", key)
	if to, ok := movedKeys[joinPath(path, key)]; ok {
		msg += " (moved to " + to + ")"
	} else if s := suggest(key, known); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	d.add(k.Line, path, errors.New(msg))
}

// components decodes the sources or sinks mapping.
func (d *decoder) components(n *yaml.Node, path, what string, ctors map[string]func() Validator, out map[string]Component) {
	n = d.deref(n, path)
	if n == nil || isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n.Line, path, "must be a mapping of component id to settings, got %s", kindName(n.Kind))
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		id, ok := d.key(k, path, seen)
		if !ok {
			continue
		}
		typ, name, err := splitID(id)
		if err != nil {
			d.errorf(k.Line, path, "%s id %q: %v", what, id, err)
			continue
		}
		ctor, ok := ctors[typ]
		if !ok {
			known := slices.Sorted(mapKeys(ctors))
			if len(known) == 0 {
				d.errorf(k.Line, path, "unknown %s type %q (no %s types are registered)", what, typ, what)
			} else {
				d.errorf(k.Line, path, "unknown %s type %q (known: %s)", what, typ, strings.Join(known, ", "))
			}
			continue
		}
		cpath := path + "." + id
		c := ctor()
		rv := reflect.ValueOf(c)
		if c == nil || rv.Kind() != reflect.Pointer || rv.IsNil() {
			d.errorf(k.Line, cpath, "internal error: the %s type %q has a constructor that does not return a non-nil pointer", what, typ)
			continue
		}
		d.decode(v, cpath, rv.Elem(), 0)
		out[id] = Component{ID: id, Type: typ, Name: name, Config: c}
	}
}

// splitID splits a component id "type" or "type/name".
func splitID(id string) (typ, name string, err error) {
	typ, name, hasName := strings.Cut(id, "/")
	if typ == "" {
		return "", "", errors.New(`want "type" or "type/name"`)
	}
	if hasName && !componentNameRE.MatchString(name) {
		return "", "", errors.New(`want "type" or "type/name" with name matching [a-z0-9][a-z0-9_.-]*`)
	}
	return typ, name, nil
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// deref follows an alias, bounding the number of expansions.
func (d *decoder) deref(n *yaml.Node, path string) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		d.aliases++
		if d.aliases > maxAliases {
			if d.aliases == maxAliases+1 {
				d.errorf(n.Line, path, "too many alias expansions")
			}
			return nil
		}
		n = n.Alias
	}
	return n
}

// decode walks n into v (an addressable value), strictly: unknown keys of
// structs are errors. Leaves are decoded by yaml.v3 itself.
func (d *decoder) decode(n *yaml.Node, path string, v reflect.Value, depth int) {
	if depth > maxDepth {
		d.errorf(n.Line, path, "nested too deeply")
		return
	}
	if n = d.deref(n, path); n == nil {
		return
	}
	t := v.Type()
	if t == nodeType {
		v.Set(reflect.ValueOf(*n))
		return
	}
	if isLeaf(t) {
		d.leaf(n, path, v)
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		if isNull(n) {
			v.SetZero()
			return
		}
		if v.IsNil() {
			v.Set(reflect.New(t.Elem()))
		}
		d.decode(n, path, v.Elem(), depth+1)
	case reflect.Struct:
		d.decodeStruct(n, path, v, depth)
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			d.leaf(n, path, v)
			return
		}
		if isNull(n) {
			return
		}
		if n.Kind != yaml.MappingNode {
			d.errorf(n.Line, path, "must be a mapping, got %s", kindName(n.Kind))
			return
		}
		if v.IsNil() {
			v.Set(reflect.MakeMap(t))
		}
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			key, ok := d.key(k, path, seen)
			if !ok {
				continue
			}
			elem := reflect.New(t.Elem()).Elem()
			d.decode(val, joinPath(path, key), elem, depth+1)
			v.SetMapIndex(reflect.ValueOf(key).Convert(t.Key()), elem)
		}
	case reflect.Slice:
		if isNull(n) {
			v.SetZero()
			return
		}
		if n.Kind != yaml.SequenceNode {
			d.errorf(n.Line, path, "must be a list, got %s", kindName(n.Kind))
			return
		}
		s := reflect.MakeSlice(t, len(n.Content), len(n.Content))
		for i, item := range n.Content {
			d.decode(item, fmt.Sprintf("%s[%d]", path, i), s.Index(i), depth+1)
		}
		v.Set(s)
	default:
		d.leaf(n, path, v)
	}
}

// isLeaf reports whether values of t are decoded by yaml.v3 directly rather
// than walked: types with their own unmarshalling and time.Time.
func isLeaf(t reflect.Type) bool {
	if t == timeType {
		return true
	}
	pt := reflect.PointerTo(t)
	return pt.Implements(unmarshalerType) || pt.Implements(textUnmarshaler)
}

// field is a struct field reachable from a YAML key (possibly through
// ",inline" structs).
type field struct {
	index []int
}

func structFields(t reflect.Type) (map[string]field, []string) {
	fields := map[string]field{}
	var names []string
	var walk func(t reflect.Type, prefix []int)
	walk = func(t reflect.Type, prefix []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			tag := f.Tag.Get("yaml")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			idx := append(slices.Clone(prefix), i)
			if slices.Contains(strings.Split(opts, ","), "inline") && f.Type.Kind() == reflect.Struct {
				walk(f.Type, idx)
				continue
			}
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			if _, dup := fields[name]; !dup {
				fields[name] = field{index: idx}
				names = append(names, name)
			}
		}
	}
	walk(t, nil)
	return fields, names
}

func (d *decoder) decodeStruct(n *yaml.Node, path string, v reflect.Value, depth int) {
	if isNull(n) {
		return // keep defaults
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n.Line, path, "must be a mapping, got %s", kindName(n.Kind))
		return
	}
	fields, names := structFields(v.Type())
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key, ok := d.key(k, path, seen)
		if !ok {
			continue
		}
		f, ok := fields[key]
		if !ok {
			d.unknown(k, path, key, names)
			continue
		}
		d.decode(val, joinPath(path, key), v.FieldByIndex(f.index), depth+1)
	}
}

// leaf decodes a scalar-like value with yaml.v3, rewording its errors.
func (d *decoder) leaf(n *yaml.Node, path string, v reflect.Value) {
	// yaml.v3 truncates floats into integers; a config must not.
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!float" {
			d.add(n.Line, path, leafError(n, v.Type(), &yaml.TypeError{}))
			return
		}
	}
	// Decode into a fresh value so a failed decode leaves the default.
	tmp := reflect.New(v.Type())
	tmp.Elem().Set(v)
	if err := n.Decode(tmp.Interface()); err != nil {
		d.add(n.Line, path, leafError(n, v.Type(), err))
		return
	}
	v.Set(tmp.Elem())
}

func leafError(n *yaml.Node, t reflect.Type, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("must be %s, got %s", describe(t), kindName(n.Kind))
	}
	if t == durationType {
		return fmt.Errorf("invalid duration %q (want e.g. \"90s\", \"10m\", \"24h\")", n.Value)
	}
	return fmt.Errorf("invalid value %q: must be %s", n.Value, describe(t))
}

func describe(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	}
	return "a " + t.String()
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a scalar"
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	}
	return "nothing"
}

// suggest returns the known name closest to key when it is a likely typo.
func suggest(key string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if dist := editDistance(key, k); dist < bestDist {
			best, bestDist = k, dist
		}
	}
	if bestDist > len(key)/2 {
		return ""
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
