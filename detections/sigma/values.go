package sigma

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"
)

// maxVariants bounds the patterns one value may expand into (windash).
const maxVariants = 1024

// modifiers is the parsed modifier chain of a selection key.
type modifiers struct {
	match      string // "", contains, startswith, endswith
	all        bool
	re         bool
	reFlags    string
	b64        string // "", base64, base64offset
	enc        string // "", utf16le, utf16be, utf16
	windash    bool
	cidr       bool
	exists     bool
	num        string // gt gte lt lte
	fieldref   bool
	cased      bool
	transforms []string // order of value transformations
}

// unsupportedError marks a rule construct Castellan does not implement.
type unsupportedError struct {
	construct string
	detail    string
}

func (e *unsupportedError) Error() string {
	if e.detail == "" {
		return "unsupported " + e.construct
	}
	return "unsupported " + e.construct + ": " + e.detail
}

func unsupported(construct, format string, a ...any) error {
	return &unsupportedError{construct: construct, detail: fmt.Sprintf(format, a...)}
}

func parseModifiers(mods []string) (modifiers, error) {
	var m modifiers
	for _, raw := range mods {
		mod := strings.ToLower(strings.TrimSpace(raw))
		switch mod {
		case "contains", "startswith", "endswith":
			if m.match != "" && m.match != mod {
				return m, fmt.Errorf("modifiers %s and %s conflict", m.match, mod)
			}
			m.match = mod
		case "all":
			m.all = true
		case "re":
			m.re = true
		case "i", "m", "s":
			if !m.re {
				return m, fmt.Errorf("modifier %s needs re before it", mod)
			}
			m.reFlags += mod
		case "base64", "base64offset":
			if m.b64 != "" {
				return m, fmt.Errorf("modifier %s repeated", mod)
			}
			m.b64 = mod
			m.transforms = append(m.transforms, mod)
		case "wide", "utf16le", "utf16be", "utf16":
			if mod == "wide" {
				mod = "utf16le"
			}
			m.enc = mod
			m.transforms = append(m.transforms, mod)
		case "windash":
			m.windash = true
			m.transforms = append(m.transforms, mod)
		case "cidr":
			m.cidr = true
		case "exists":
			m.exists = true
		case "gt", "gte", "lt", "lte":
			m.num = mod
		case "fieldref":
			m.fieldref = true
		case "cased":
			m.cased = true
		case "expand":
			return m, unsupported("modifier expand", "placeholders (%%name%%) need a value list from the deployment, which Castellan does not provide")
		default:
			return m, unsupported("modifier "+mod, "unknown to Castellan")
		}
	}
	if m.enc != "" && m.b64 == "" {
		return m, unsupported("modifier "+m.enc, "an encoding modifier without base64/base64offset (binary matching is not supported)")
	}
	special := 0
	for _, b := range []bool{m.re, m.cidr, m.exists, m.num != "", m.fieldref} {
		if b {
			special++
		}
	}
	if special > 1 {
		return m, fmt.Errorf("modifiers %s cannot be combined", strings.Join(mods, "|"))
	}
	if special == 1 && (m.b64 != "" || m.windash || (m.match != "" && !m.fieldref)) {
		return m, unsupported("modifier chain "+strings.Join(mods, "|"), "this combination is not supported")
	}
	if m.fieldref && m.match != "" {
		return m, unsupported("modifier chain "+strings.Join(mods, "|"), "fieldref only compares for equality here")
	}
	return m, nil
}

// valueText is the string form of a YAML value; ok is false for null.
func valueText(v any) (string, bool, error) {
	switch t := v.(type) {
	case nil:
		return "", false, nil
	case scalar:
		return t.text, true, nil
	}
	return "", false, fmt.Errorf("line %d: value must be a scalar or null", lineOf(v))
}

// compileValue compiles one value under mods into the patterns it expands
// to (an OR).
func (c *compiler) compileValue(mods modifiers, v any) ([]pattern, error) {
	text, notNull, err := valueText(v)
	if err != nil {
		return nil, err
	}
	if !notNull {
		if mods.exists || mods.re || mods.cidr || mods.num != "" || mods.fieldref {
			return nil, fmt.Errorf("null value with a modifier that needs a value")
		}
		return []pattern{{kind: patNull}}, nil
	}
	switch {
	case mods.exists:
		b, err := strconv.ParseBool(strings.ToLower(text))
		if err != nil {
			return nil, fmt.Errorf("exists: want true or false, got %q", text)
		}
		return []pattern{{kind: patExists, want: b}}, nil
	case mods.re:
		expr := text
		if mods.reFlags != "" {
			expr = "(?" + mods.reFlags + ")" + expr
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			return nil, unsupported("regular expression", "%q does not compile as Go RE2: %v", text, err)
		}
		return []pattern{{kind: patRegex, re: re}}, nil
	case mods.cidr:
		p, err := netip.ParsePrefix(strings.TrimSpace(text))
		if err != nil {
			return nil, fmt.Errorf("cidr %q: %v", text, err)
		}
		return []pattern{{kind: patCIDR, nets: []netip.Prefix{p.Masked()}}}, nil
	case mods.num != "":
		f, ok := parseNumber(text)
		if !ok {
			return nil, fmt.Errorf("%s: %q is not a number", mods.num, text)
		}
		op := map[string]uint8{"gt": opGT, "gte": opGTE, "lt": opLT, "lte": opLTE}[mods.num]
		return []pattern{{kind: patNum, num: f, op: op}}, nil
	case mods.fieldref:
		g, err := c.getter(strings.TrimSpace(text))
		if err != nil {
			return nil, err
		}
		return []pattern{{kind: patFieldRef, ref: g, cased: mods.cased}}, nil
	}

	// String pipeline: encodings and base64 produce literals; otherwise the
	// value is a wildcard pattern.
	variants := []string{text}
	literal := false
	for _, t := range mods.transforms {
		switch t {
		case "utf16le", "utf16be", "utf16":
			for i, s := range variants {
				variants[i] = encodeUTF16(s, t)
			}
		case "base64":
			for i, s := range variants {
				variants[i] = base64.StdEncoding.EncodeToString([]byte(s))
			}
			literal = true
		case "base64offset":
			var out []string
			for _, s := range variants {
				out = append(out, base64Offsets(s)...)
			}
			variants = out
			literal = true
		case "windash":
			var out []string
			for _, s := range variants {
				out = append(out, windashVariants(s)...)
				if len(out) > maxVariants {
					return nil, unsupported("modifier windash", "value %q expands to more than %d variants", text, maxVariants)
				}
			}
			variants = out
		}
	}
	pats := make([]pattern, 0, len(variants))
	for _, s := range variants {
		var toks []globTok
		if literal {
			toks = []globTok{{lit: s}}
		} else {
			toks = parseWildcards(s)
		}
		switch mods.match {
		case "contains":
			toks = append(append([]globTok{{kind: 2}}, toks...), globTok{kind: 2})
		case "startswith":
			toks = append(toks, globTok{kind: 2})
		case "endswith":
			toks = append([]globTok{{kind: 2}}, toks...)
		}
		// base64 output is case-sensitive by nature.
		pats = append(pats, compileGlob(toks, mods.cased || literal))
	}
	return pats, nil
}

// parseWildcards splits a Sigma string into literal, '?' and '*' tokens.
// Escapes: \* \? \\ stand for the literal character; any other backslash
// is literal.
func parseWildcards(s string) []globTok {
	var toks []globTok
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			toks = append(toks, globTok{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?' || s[i+1] == '\\'):
			lit.WriteByte(s[i+1])
			i++
		case c == '*':
			flush()
			if len(toks) == 0 || toks[len(toks)-1].kind != 2 {
				toks = append(toks, globTok{kind: 2})
			}
		case c == '?':
			flush()
			toks = append(toks, globTok{kind: 1})
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return toks
}

// compileGlob picks the cheapest matcher for a token list.
func compileGlob(toks []globTok, cased bool) pattern {
	// collapse consecutive stars
	norm := toks[:0:0]
	for _, t := range toks {
		if t.kind == 2 && len(norm) > 0 && norm[len(norm)-1].kind == 2 {
			continue
		}
		if t.kind == 0 && len(norm) > 0 && norm[len(norm)-1].kind == 0 {
			norm[len(norm)-1].lit += t.lit
			continue
		}
		norm = append(norm, t)
	}
	toks = norm
	if !cased {
		for i := range toks {
			toks[i].lit = strings.ToLower(toks[i].lit)
		}
	}
	p := pattern{cased: cased}
	allASCII := true
	for _, t := range toks {
		if t.kind == 1 || !isASCII(t.lit) {
			allASCII = false
		}
	}
	star := func(i int) bool { return i >= 0 && i < len(toks) && toks[i].kind == 2 }
	if allASCII || cased {
		switch {
		case len(toks) == 0:
			p.kind, p.s, p.ascii = patExact, "", true
			return p
		case len(toks) == 1 && toks[0].kind == 2:
			p.kind = patAny
			return p
		case len(toks) == 1 && toks[0].kind == 0:
			p.kind, p.s, p.ascii = patExact, toks[0].lit, isASCII(toks[0].lit)
			return p
		case len(toks) == 2 && toks[0].kind == 0 && star(1):
			p.kind, p.s, p.ascii = patPrefix, toks[0].lit, true
			return p
		case len(toks) == 2 && star(0) && toks[1].kind == 0:
			p.kind, p.s, p.ascii = patSuffix, toks[1].lit, true
			return p
		case len(toks) == 3 && star(0) && toks[1].kind == 0 && star(2):
			p.kind, p.s, p.ascii = patContains, toks[1].lit, true
			return p
		}
	} else if len(toks) == 1 && toks[0].kind == 0 {
		p.kind, p.s = patExact, toks[0].lit // strings.EqualFold handles Unicode
		return p
	}
	p.kind, p.glob = patGlob, toks
	return p
}

// encodeUTF16 returns the UTF-16 bytes of s as a (binary) string.
func encodeUTF16(s, enc string) string {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 0, 2*len(u)+2)
	if enc == "utf16" {
		b = append(b, 0xff, 0xfe)
	}
	for _, c := range u {
		if enc == "utf16be" {
			b = binary.BigEndian.AppendUint16(b, c)
		} else {
			b = binary.LittleEndian.AppendUint16(b, c)
		}
	}
	return string(b)
}

// base64Offsets returns the three base64 forms of s at offsets 0, 1 and 2
// of a larger encoded string, trimmed to the characters that do not depend
// on the surrounding bytes (the Sigma base64offset algorithm).
func base64Offsets(s string) []string {
	out := make([]string, 0, 3)
	starts := [3]int{0, 2, 3}
	ends := [3]int{0, -3, -2}
	for i := 0; i < 3; i++ {
		enc := base64.StdEncoding.EncodeToString([]byte(strings.Repeat(" ", i) + s))
		end := len(enc)
		if e := ends[(len(s)+i)%3]; e != 0 {
			end += e
		}
		if starts[i] < end {
			out = append(out, enc[starts[i]:end])
		}
	}
	return out
}

// windashes are the characters Windows command lines accept in place of a
// leading dash.
var windashes = []string{"-", "/", "\u2013", "\u2014", "\u2015"}

// windashVariants returns every variant of s with each option dash (a '-'
// or '/' at the start of a word) replaced by one of windashes.
func windashVariants(s string) []string {
	var pos []int
	for i := 0; i < len(s); i++ {
		if s[i] != '-' && s[i] != '/' {
			continue
		}
		prevWord := i > 0 && isWordByte(s[i-1])
		nextWord := i+1 < len(s) && isWordByte(s[i+1])
		if !prevWord && nextWord {
			pos = append(pos, i)
		}
	}
	out := []string{""}
	last := 0
	for _, p := range pos {
		next := make([]string, 0, len(out)*len(windashes))
		for _, o := range out {
			for _, d := range windashes {
				next = append(next, o+s[last:p]+d)
			}
		}
		out = next
		last = p + 1
		if len(out) > maxVariants {
			return out
		}
	}
	for i := range out {
		out[i] += s[last:]
	}
	return out
}

func isWordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
