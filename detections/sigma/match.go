package sigma

import (
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// getter reads one field of an event; ok is false when the field is absent.
type getter func(ev *schema.Event) (v string, ok bool)

// patKind is what a compiled pattern does.
type patKind uint8

const (
	patExact patKind = iota
	patPrefix
	patSuffix
	patContains
	patGlob
	patAny // "*": any present value
	patRegex
	patCIDR
	patNum
	patNull
	patExists
	patFieldRef
	patMulti // several ASCII contains needles in one pass
)

// numeric comparison operators
const (
	opGT uint8 = iota
	opGTE
	opLT
	opLTE
)

// pattern is one compiled value. Needles are lower-cased at compile time
// unless cased; comparisons fold ASCII case without allocating.
type pattern struct {
	kind  patKind
	cased bool
	ascii bool // needle is ASCII: byte-wise folding is exact
	s     string
	glob  []globTok
	re    *regexp.Regexp
	nets  []netip.Prefix
	num   float64
	op    uint8
	want  bool   // exists
	ref   getter // fieldref
	multi *multiContains
}

// globTok is one token of a general glob: a literal run, '?' or '*'.
type globTok struct {
	lit  string // lower-cased unless cased
	kind uint8  // 0 literal, 1 '?', 2 '*'
}

// matchPat reports whether the pattern holds for the field value.
func (p *pattern) matchPat(ev *schema.Event, v string, ok bool) bool {
	switch p.kind {
	case patNull:
		return !ok || v == ""
	case patExists:
		return ok == p.want
	}
	if !ok {
		return false
	}
	switch p.kind {
	case patExact:
		if p.cased {
			return v == p.s
		}
		if p.ascii {
			return len(v) == len(p.s) && equalFoldASCII(v, p.s)
		}
		return strings.EqualFold(v, p.s)
	case patPrefix:
		if p.cased {
			return strings.HasPrefix(v, p.s)
		}
		return len(v) >= len(p.s) && equalFoldASCII(v[:len(p.s)], p.s)
	case patSuffix:
		if p.cased {
			return strings.HasSuffix(v, p.s)
		}
		return len(v) >= len(p.s) && equalFoldASCII(v[len(v)-len(p.s):], p.s)
	case patContains:
		if p.cased {
			return strings.Contains(v, p.s)
		}
		return containsFoldASCII(v, p.s)
	case patMulti:
		return p.multi.match(v)
	case patGlob:
		return globMatch(p.glob, v, p.cased)
	case patAny:
		return true
	case patRegex:
		return p.re.MatchString(v)
	case patCIDR:
		a, err := netip.ParseAddr(strings.TrimPrefix(v, "::ffff:"))
		if err != nil {
			return false
		}
		a = a.Unmap()
		for _, n := range p.nets {
			if n.Contains(a) {
				return true
			}
		}
		return false
	case patNum:
		f, ok := parseNumber(v)
		if !ok {
			return false
		}
		switch p.op {
		case opGT:
			return f > p.num
		case opGTE:
			return f >= p.num
		case opLT:
			return f < p.num
		default:
			return f <= p.num
		}
	case patFieldRef:
		o, ok := p.ref(ev)
		if !ok {
			return false
		}
		if p.cased {
			return v == o
		}
		return strings.EqualFold(v, o)
	}
	return false
}

// parseNumber reads a decimal or 0x-hex number.
func parseNumber(v string) (float64, bool) {
	v = strings.TrimSpace(v)
	if len(v) > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X') {
		n, err := strconv.ParseUint(v[2:], 16, 64)
		return float64(n), err == nil
	}
	f, err := strconv.ParseFloat(v, 64)
	return f, err == nil
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// equalFoldASCII compares h with the lower-case ASCII needle n (same length).
func equalFoldASCII(h, n string) bool {
	for i := 0; i < len(n); i++ {
		if lowerASCII(h[i]) != n[i] {
			return false
		}
	}
	return true
}

// containsFoldASCII reports whether h contains the lower-case ASCII needle n
// ignoring ASCII case.
func containsFoldASCII(h, n string) bool {
	if len(n) == 0 {
		return true
	}
	if len(h) < len(n) {
		return false
	}
	c0 := n[0]
	u0 := c0
	if 'a' <= c0 && c0 <= 'z' {
		u0 = c0 - ('a' - 'A')
	}
	rest := n[1:]
	last := len(h) - len(n)
	for i := 0; i <= last; {
		// find the next candidate first byte
		j := indexEither(h[i:last+1], c0, u0)
		if j < 0 {
			return false
		}
		i += j
		if equalFoldASCII(h[i+1:i+len(n)], rest) {
			return true
		}
		i++
	}
	return false
}

func indexEither(s string, a, b byte) int {
	i := strings.IndexByte(s, a)
	if a == b {
		return i
	}
	if i < 0 {
		return strings.IndexByte(s, b)
	}
	if j := strings.IndexByte(s[:i], b); j >= 0 {
		return j
	}
	return i
}

// globMatch matches v against tokens with '*' backtracking; literals compare
// rune by rune with Unicode simple folding unless cased.
func globMatch(toks []globTok, v string, cased bool) bool {
	ti, vi := 0, 0
	starT, starV := -1, 0
	for {
		if ti < len(toks) {
			t := &toks[ti]
			switch t.kind {
			case 2:
				starT, starV = ti, vi
				ti++
				continue
			case 1:
				if vi < len(v) {
					_, sz := utf8.DecodeRuneInString(v[vi:])
					vi += sz
					ti++
					continue
				}
			default:
				if n, ok := prefixFold(v[vi:], t.lit, cased); ok {
					vi += n
					ti++
					continue
				}
			}
		} else if vi == len(v) {
			return true
		}
		if starT < 0 || starV >= len(v) {
			return false
		}
		_, sz := utf8.DecodeRuneInString(v[starV:])
		starV += sz
		ti, vi = starT+1, starV
	}
}

// prefixFold reports whether s starts with lit (lit lower-cased unless
// cased) and how many bytes of s it spans.
func prefixFold(s, lit string, cased bool) (int, bool) {
	if cased {
		return len(lit), strings.HasPrefix(s, lit)
	}
	i := 0
	for _, lr := range lit {
		if i >= len(s) {
			return 0, false
		}
		c := s[i]
		if c < utf8.RuneSelf && lr < utf8.RuneSelf {
			if lowerASCII(c) != byte(lr) {
				return 0, false
			}
			i++
			continue
		}
		r, sz := utf8.DecodeRuneInString(s[i:])
		if unicode.ToLower(r) != lr {
			return 0, false
		}
		i += sz
	}
	return i, true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// fieldMatch is one entry of a selection map: a field and its values.
type fieldMatch struct {
	name string
	get  getter
	// alts: the field matches when, for every alternative group, some
	// pattern of the group holds (value lists are one group, |all makes
	// one group per value).
	alts [][]pattern
}

func (f *fieldMatch) match(ev *schema.Event) bool {
	v, ok := f.get(ev)
	for gi := range f.alts {
		g := f.alts[gi]
		hit := false
		for i := range g {
			if g[i].matchPat(ev, v, ok) {
				hit = true
				break
			}
		}
		if !hit {
			return false
		}
	}
	return true
}

// multiContains finds any of several lower-case ASCII needles in one pass:
// needles are bucketed by first byte (both cases index the same bucket).
type multiContains struct {
	idx     [256]uint8
	buckets [][]string
}

// minMulti is the number of contains needles from which one pass beats
// searching for each.
const minMulti = 3

// optimizeGroup merges the case-insensitive ASCII contains patterns of an
// OR group into one multiContains pattern.
func optimizeGroup(g []pattern) []pattern {
	n := 0
	for i := range g {
		if isMultiable(&g[i]) {
			n++
		}
	}
	if n < minMulti {
		return g
	}
	m := &multiContains{}
	out := make([]pattern, 0, len(g)-n+1)
	for i := range g {
		p := &g[i]
		if !isMultiable(p) {
			out = append(out, *p)
			continue
		}
		c := p.s[0]
		b := m.idx[c]
		if b == 0 {
			if len(m.buckets) == 255 {
				out = append(out, *p)
				continue
			}
			m.buckets = append(m.buckets, nil)
			b = uint8(len(m.buckets))
			m.idx[c] = b
			if 'a' <= c && c <= 'z' {
				m.idx[c-('a'-'A')] = b
			}
		}
		m.buckets[b-1] = append(m.buckets[b-1], p.s)
	}
	return append([]pattern{{kind: patMulti, multi: m}}, out...)
}

func isMultiable(p *pattern) bool {
	return p.kind == patContains && !p.cased && p.ascii && p.s != ""
}

func (m *multiContains) match(h string) bool {
	for i := 0; i < len(h); i++ {
		b := m.idx[h[i]]
		if b == 0 {
			continue
		}
		rest := h[i:]
		for _, n := range m.buckets[b-1] {
			if len(rest) >= len(n) && equalFoldASCII(rest[:len(n)], n) {
				return true
			}
		}
	}
	return false
}
