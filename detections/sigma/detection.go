package sigma

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// node is a compiled condition: a boolean over one event.
type node interface {
	eval(ev *schema.Event) bool
}

type andNode []node

func (n andNode) eval(ev *schema.Event) bool {
	for _, c := range n {
		if !c.eval(ev) {
			return false
		}
	}
	return true
}

type orNode []node

func (n orNode) eval(ev *schema.Event) bool {
	for _, c := range n {
		if c.eval(ev) {
			return true
		}
	}
	return false
}

type notNode struct{ n node }

func (n notNode) eval(ev *schema.Event) bool { return !n.n.eval(ev) }

// countNode holds when at least n of its children hold ("2 of sel*").
type countNode struct {
	n    int
	kids []node
}

func (c countNode) eval(ev *schema.Event) bool {
	hits := 0
	for i, k := range c.kids {
		if k.eval(ev) {
			hits++
			if hits >= c.n {
				return true
			}
		}
		if hits+len(c.kids)-i-1 < c.n {
			return false
		}
	}
	return false
}

// selNode is a selection map: every field entry must hold.
type selNode struct{ fields []fieldMatch }

func (s *selNode) eval(ev *schema.Event) bool {
	for i := range s.fields {
		if !s.fields[i].match(ev) {
			return false
		}
	}
	return true
}

// keywordNode matches when any raw field value of the event matches (with
// all: every group must match some value).
type keywordNode struct{ alts [][]pattern }

func (k *keywordNode) eval(ev *schema.Event) bool {
	for gi := range k.alts {
		g := k.alts[gi]
		hit := false
	values:
		for _, v := range ev.Original {
			for i := range g {
				if g[i].matchPat(ev, v, true) {
					hit = true
					break values
				}
			}
		}
		if !hit {
			return false
		}
	}
	return true
}

// fieldSpec says where a Sigma field name reads from for one logsource
// target: an Original key, a schema path, or a derived value.
type fieldSpec struct {
	original string
	path     string
	derived  getter
	absent   bool // the field does not exist in this log (e.g. Hashes in 4688)
}

// compiler compiles one rule's detection for one logsource target.
type compiler struct {
	det    *mapping
	fields map[string]fieldSpec // lower-case Sigma name → source, per target
	memo   map[string]node
}

// aliases resolve the Windows envelope names Sigma rules use to schema paths.
var aliases = map[string]string{
	"eventid":       "event.code",
	"channel":       "event.channel",
	"provider_name": "event.provider",
	"computer":      "host.name",
}

// getter resolves a Sigma field name: the target's field map, the Windows
// envelope aliases, a schema path (dotted names schema.Field knows), then
// Original by exact name with a case-insensitive fallback.
func (c *compiler) getter(name string) (getter, error) {
	if name == "" {
		return nil, fmt.Errorf("empty field name")
	}
	lname := strings.ToLower(name)
	if spec, ok := c.fields[lname]; ok {
		switch {
		case spec.absent:
			return func(*schema.Event) (string, bool) { return "", false }, nil
		case spec.derived != nil:
			return spec.derived, nil
		case spec.path != "":
			return schemaGetter(spec.path), nil
		default:
			return originalGetter(spec.original), nil
		}
	}
	if p, ok := aliases[lname]; ok {
		return schemaGetter(p), nil
	}
	if strings.Contains(name, ".") {
		if _, ok := schema.Field(name); ok {
			return schemaGetter(name), nil
		}
	}
	return originalGetter(name), nil
}

func schemaGetter(path string) getter {
	g, _ := schema.Field(path)
	return func(ev *schema.Event) (string, bool) {
		v := g(ev)
		return v, v != ""
	}
}

func originalGetter(name string) getter {
	return func(ev *schema.Event) (string, bool) {
		if v, ok := ev.Original[name]; ok {
			return v, true
		}
		for k, v := range ev.Original {
			if len(k) == len(name) && strings.EqualFold(k, name) {
				return v, true
			}
		}
		return "", false
	}
}

// search compiles the named detection item.
func (c *compiler) search(name string) (node, error) {
	if n, ok := c.memo[name]; ok {
		return n, nil
	}
	v, ok := c.det.get(name)
	if !ok || name == "condition" || name == "timeframe" {
		return nil, fmt.Errorf("condition references unknown detection item %q", name)
	}
	n, err := c.item(v)
	if err != nil {
		return nil, fmt.Errorf("detection.%s: %w", name, err)
	}
	c.memo[name] = n
	return n, nil
}

// item compiles a detection item: a map, a list of maps or a keyword list.
func (c *compiler) item(v any) (node, error) {
	switch t := v.(type) {
	case *mapping:
		return c.selection(t)
	case *sequence:
		if len(t.items) == 0 {
			return nil, fmt.Errorf("empty list")
		}
		maps, scalars := 0, 0
		for _, it := range t.items {
			switch it.(type) {
			case *mapping:
				maps++
			case scalar:
				scalars++
			}
		}
		switch {
		case maps == len(t.items):
			or := make(orNode, 0, len(t.items))
			for _, it := range t.items {
				n, err := c.selection(it.(*mapping))
				if err != nil {
					return nil, err
				}
				or = append(or, n)
			}
			if len(or) == 1 {
				return or[0], nil
			}
			return or, nil
		case scalars == len(t.items):
			return c.keywords(modifiers{match: "contains"}, t.items)
		}
		return nil, unsupported("detection item", "a list mixing maps, values or nested lists (line %d)", t.line)
	case scalar:
		return c.keywords(modifiers{match: "contains"}, []any{t})
	case nil:
		return nil, fmt.Errorf("empty detection item")
	}
	return nil, fmt.Errorf("unexpected detection item")
}

func (c *compiler) keywords(mods modifiers, items []any) (node, error) {
	k := &keywordNode{}
	var group []pattern
	for _, it := range items {
		if it == nil {
			return nil, unsupported("keyword", "null keyword")
		}
		ps, err := c.compileValue(mods, it)
		if err != nil {
			return nil, err
		}
		if mods.all {
			k.alts = append(k.alts, ps)
		} else {
			group = append(group, ps...)
		}
	}
	if !mods.all {
		k.alts = [][]pattern{optimizeGroup(group)}
	}
	return k, nil
}

// selection compiles a map: AND of its field entries.
func (c *compiler) selection(m *mapping) (node, error) {
	if len(m.keys) == 0 {
		return nil, fmt.Errorf("empty map (line %d)", m.line)
	}
	s := &selNode{}
	var extra andNode // keyword map entries ('|all': [...])
	for i, key := range m.keys {
		parts := strings.Split(key, "|")
		field := strings.TrimSpace(parts[0])
		mods, err := parseModifiers(parts[1:])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		val := m.vals[i]
		var items []any
		switch t := val.(type) {
		case *sequence:
			items = t.items
			if len(items) == 0 {
				return nil, fmt.Errorf("%s: empty value list", key)
			}
		case *mapping:
			return nil, unsupported("nested map", "%s holds a map (line %d)", key, t.line)
		default:
			items = []any{val}
		}
		if field == "" {
			// keyword map: '|all': [...] or '|contains': [...]
			if mods.match == "" {
				mods.match = "contains"
			}
			kn, err := c.keywords(mods, items)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", key, err)
			}
			extra = append(extra, kn)
			continue
		}
		g, err := c.getter(field)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		fm := fieldMatch{name: field, get: g}
		var group []pattern
		for _, it := range items {
			if _, isMap := it.(*mapping); isMap {
				return nil, unsupported("nested map", "%s holds a map", key)
			}
			if _, isSeq := it.(*sequence); isSeq {
				return nil, unsupported("nested list", "%s holds a list of lists", key)
			}
			ps, err := c.compileValue(mods, it)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", key, err)
			}
			if mods.all {
				fm.alts = append(fm.alts, ps)
			} else {
				group = append(group, ps...)
			}
		}
		if !mods.all {
			fm.alts = [][]pattern{optimizeGroup(group)}
		}
		s.fields = append(s.fields, fm)
	}
	if len(extra) == 0 {
		return s, nil
	}
	if len(s.fields) > 0 {
		extra = append(andNode{s}, extra...)
	}
	if len(extra) == 1 {
		return extra[0], nil
	}
	return extra, nil
}

// eventIDSet returns the EventID values an event must have for n to hold,
// or ok=false when n does not constrain EventID to a finite set.
func eventIDSet(n node) ([]string, bool) {
	switch t := n.(type) {
	case *selNode:
		for _, f := range t.fields {
			if !strings.EqualFold(f.name, "EventID") || len(f.alts) != 1 {
				continue
			}
			var ids []string
			plain := true
			for _, p := range f.alts[0] {
				if p.kind != patExact || !isDecimal(p.s) {
					plain = false
					break
				}
				ids = append(ids, p.s)
			}
			if plain && len(ids) > 0 {
				return ids, true
			}
		}
	case andNode:
		var best []string
		found := false
		for _, k := range t {
			if ids, ok := eventIDSet(k); ok && (!found || len(ids) < len(best)) {
				best, found = ids, true
			}
		}
		return best, found
	case orNode:
		var all []string
		for _, k := range t {
			ids, ok := eventIDSet(k)
			if !ok {
				return nil, false
			}
			all = append(all, ids...)
		}
		return dedupe(all), len(all) > 0
	case countNode:
		if t.n == len(t.kids) {
			return eventIDSet(andNode(t.kids))
		}
		return eventIDSet(orNode(t.kids))
	}
	return nil, false
}

func isDecimal(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func dedupe(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// ---- condition expressions ----

type condParser struct {
	c    *compiler
	toks []string
	pos  int
}

func tokenize(s string) []string {
	var out []string
	cur := strings.Builder{}
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	for _, r := range s {
		switch {
		case r == '(' || r == ')' || r == '|':
			flush()
			out = append(out, string(r))
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			flush()
		default:
			cur.WriteRune(r)
		}
	}
	flush()
	return out
}

// compileCondition compiles the condition expression.
func (c *compiler) compileCondition(cond string) (node, error) {
	toks := tokenize(cond)
	for _, t := range toks {
		if t == "|" {
			return nil, unsupported("aggregation", "a condition with a pipe (%q): Sigma 1 aggregations are replaced by correlation rules", cond)
		}
	}
	p := &condParser{c: c, toks: toks}
	if len(toks) == 0 {
		return nil, fmt.Errorf("empty condition")
	}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("condition %q: unexpected %q", cond, p.toks[p.pos])
	}
	return n, nil
}

func (p *condParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *condParser) or() (node, error) {
	ns, err := p.list("or", p.and)
	if err != nil {
		return nil, err
	}
	if len(ns) == 1 {
		return ns[0], nil
	}
	return orNode(ns), nil
}

func (p *condParser) and() (node, error) {
	ns, err := p.list("and", p.not)
	if err != nil {
		return nil, err
	}
	if len(ns) == 1 {
		return ns[0], nil
	}
	return andNode(ns), nil
}

// list parses operands joined by the keyword op (next parses one operand,
// the next tighter level of the grammar).
func (p *condParser) list(op string, next func() (node, error)) ([]node, error) {
	n, err := next()
	if err != nil {
		return nil, err
	}
	out := []node{n}
	for strings.EqualFold(p.peek(), op) {
		p.pos++
		if n, err = next(); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

func (p *condParser) not() (node, error) {
	if strings.EqualFold(p.peek(), "not") {
		p.pos++
		n, err := p.not()
		if err != nil {
			return nil, err
		}
		return notNode{n}, nil
	}
	return p.primary()
}

func (p *condParser) primary() (node, error) {
	t := p.peek()
	switch {
	case t == "":
		return nil, fmt.Errorf("condition ends early")
	case t == "(":
		p.pos++
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			return nil, fmt.Errorf("condition: missing )")
		}
		p.pos++
		return n, nil
	case t == ")":
		return nil, fmt.Errorf("condition: unexpected )")
	case isKeyword(t):
		return nil, fmt.Errorf("condition: unexpected %q", t)
	}
	if p.pos+1 < len(p.toks) && strings.EqualFold(p.toks[p.pos+1], "of") {
		return p.quantifier()
	}
	p.pos++
	if strings.ContainsAny(t, "*?") {
		return nil, fmt.Errorf("condition: wildcard %q needs '1 of' or 'all of'", t)
	}
	return p.c.search(t)
}

func isKeyword(t string) bool {
	switch strings.ToLower(t) {
	case "and", "or", "not", "of", "them":
		return true
	}
	return false
}

// quantifier parses "1 of X", "all of X", "N of X" with X a name pattern or
// "them".
func (p *condParser) quantifier() (node, error) {
	q := strings.ToLower(p.toks[p.pos])
	p.pos += 2
	target := p.peek()
	if target == "" || target == "(" || target == ")" {
		return nil, fmt.Errorf("condition: %s of needs a name pattern or them", q)
	}
	p.pos++
	var names []string
	for _, k := range p.c.det.keys {
		if k == "condition" || k == "timeframe" {
			continue
		}
		if strings.EqualFold(target, "them") {
			if !strings.HasPrefix(k, "_") {
				names = append(names, k)
			}
		} else if nameGlob(target, k) {
			names = append(names, k)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("condition: %s of %s matches no detection item", q, target)
	}
	kids := make([]node, 0, len(names))
	for _, n := range names {
		k, err := p.c.search(n)
		if err != nil {
			return nil, err
		}
		kids = append(kids, k)
	}
	switch q {
	case "all":
		if len(kids) == 1 {
			return kids[0], nil
		}
		return andNode(kids), nil
	case "1", "any":
		if len(kids) == 1 {
			return kids[0], nil
		}
		return orNode(kids), nil
	}
	n, err := strconv.Atoi(q)
	if err != nil || n < 1 {
		return nil, fmt.Errorf("condition: bad quantifier %q", q)
	}
	return countNode{n: n, kids: kids}, nil
}

// nameGlob matches a detection item name against a pattern with '*' and '?'.
func nameGlob(pat, name string) bool {
	return globMatch(parseWildcardsRaw(pat), name, true)
}

// parseWildcardsRaw treats every '*' and '?' as a wildcard (no escapes).
func parseWildcardsRaw(s string) []globTok {
	var toks []globTok
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '*' || s[i] == '?' {
			if i > start {
				toks = append(toks, globTok{lit: s[start:i]})
			}
			k := uint8(2)
			if s[i] == '?' {
				k = 1
			}
			toks = append(toks, globTok{kind: k})
			start = i + 1
		}
	}
	if start < len(s) {
		toks = append(toks, globTok{lit: s[start:]})
	}
	return toks
}
