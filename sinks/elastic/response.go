package elastic

import (
	"bytes"
	"strings"
)

// bulkSummary reads the errors flag and the number of items of a _bulk
// response as json.Unmarshal into struct{Errors bool; Items []struct{}}
// would, in one validating pass without building the items. ok is false
// when the body is not that shape (invalid JSON, a wrong type); the caller
// then decodes it with encoding/json for the error.
func bulkSummary(b []byte) (errorsSeen bool, items int, ok bool) {
	if !validJSON(b) {
		return false, 0, false
	}
	i := skipSpace(b, 0)
	if b[i] != '{' {
		return false, 0, false
	}
	i = skipSpace(b, i+1)
	if b[i] == '}' {
		return false, 0, true
	}
	for {
		ks := i
		i = skipJSON(b, i)
		key := b[ks+1 : i-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			return false, 0, false // escaped key: let encoding/json match it
		}
		i = skipSpace(b, i)
		i = skipSpace(b, i+1) // ':'
		vs := i
		i = skipJSON(b, i)
		v := b[vs:i]
		switch {
		case strings.EqualFold(string(key), "errors"):
			switch v[0] {
			case 't':
				errorsSeen = true
			case 'f':
				errorsSeen = false
			case 'n':
			default:
				return false, 0, false
			}
		case strings.EqualFold(string(key), "items"):
			switch v[0] {
			case 'n':
				items = 0
			case '[':
				n, ok := countObjects(v)
				if !ok {
					return false, 0, false
				}
				items = n
			default:
				return false, 0, false
			}
		}
		i = skipSpace(b, i)
		if b[i] == '}' {
			return errorsSeen, items, true
		}
		i = skipSpace(b, i+1) // ','
	}
}

// countObjects counts the elements of a valid JSON array, each an object
// or null.
func countObjects(v []byte) (int, bool) {
	i := skipSpace(v, 1)
	if v[i] == ']' {
		return 0, true
	}
	n := 0
	for {
		if v[i] != '{' && v[i] != 'n' {
			return 0, false
		}
		i = skipJSON(v, i)
		n++
		i = skipSpace(v, i)
		if v[i] == ']' {
			return n, true
		}
		i = skipSpace(v, i+1)
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipJSON returns the offset past the valid JSON value at b[i].
func skipJSON(b []byte, i int) int {
	switch b[i] {
	case '"':
		for i++; i < len(b); i++ {
			switch b[i] {
			case '\\':
				i++
			case '"':
				return i + 1
			}
		}
		return len(b)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = skipJSON(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return len(b)
	}
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

// validJSON reports whether b is one valid JSON value, as json.Valid, in a
// single pass (a copy of sinktest.ValidJSON, which is test-only).
func validJSON(b []byte) bool {
	v := validator{b: b}
	v.ws()
	if !v.value(0) {
		return false
	}
	v.ws()
	return v.i == len(b)
}

type validator struct {
	b []byte
	i int
}

const maxJSONNesting = 10000

func (v *validator) ws() {
	for v.i < len(v.b) {
		switch v.b[v.i] {
		case ' ', '\t', '\n', '\r':
			v.i++
		default:
			return
		}
	}
}

func (v *validator) value(depth int) bool {
	if v.i >= len(v.b) {
		return false
	}
	switch c := v.b[v.i]; {
	case c == '"':
		return v.str()
	case c == '{':
		if depth >= maxJSONNesting {
			return false
		}
		v.i++
		v.ws()
		if v.i < len(v.b) && v.b[v.i] == '}' {
			v.i++
			return true
		}
		for {
			v.ws()
			if v.i >= len(v.b) || v.b[v.i] != '"' || !v.str() {
				return false
			}
			v.ws()
			if v.i >= len(v.b) || v.b[v.i] != ':' {
				return false
			}
			v.i++
			v.ws()
			if !v.value(depth + 1) {
				return false
			}
			v.ws()
			if v.i >= len(v.b) {
				return false
			}
			switch v.b[v.i] {
			case ',':
				v.i++
			case '}':
				v.i++
				return true
			default:
				return false
			}
		}
	case c == '[':
		if depth >= maxJSONNesting {
			return false
		}
		v.i++
		v.ws()
		if v.i < len(v.b) && v.b[v.i] == ']' {
			v.i++
			return true
		}
		for {
			v.ws()
			if !v.value(depth + 1) {
				return false
			}
			v.ws()
			if v.i >= len(v.b) {
				return false
			}
			switch v.b[v.i] {
			case ',':
				v.i++
			case ']':
				v.i++
				return true
			default:
				return false
			}
		}
	case c == 't':
		return v.lit("true")
	case c == 'f':
		return v.lit("false")
	case c == 'n':
		return v.lit("null")
	case c == '-' || c >= '0' && c <= '9':
		return v.number()
	}
	return false
}

func (v *validator) lit(word string) bool {
	if len(v.b)-v.i < len(word) || string(v.b[v.i:v.i+len(word)]) != word {
		return false
	}
	v.i += len(word)
	return true
}

// str checks a string starting at the opening quote.
func (v *validator) str() bool {
	for v.i++; v.i < len(v.b); v.i++ {
		switch c := v.b[v.i]; {
		case c == '"':
			v.i++
			return true
		case c < 0x20:
			return false
		case c == '\\':
			v.i++
			if v.i >= len(v.b) {
				return false
			}
			switch v.b[v.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(v.b)-v.i < 5 {
					return false
				}
				for _, h := range v.b[v.i+1 : v.i+5] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return false
					}
				}
				v.i += 4
			default:
				return false
			}
		}
	}
	return false
}

// number checks -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (v *validator) number() bool {
	if v.b[v.i] == '-' {
		v.i++
	}
	if v.i >= len(v.b) {
		return false
	}
	if v.b[v.i] == '0' {
		v.i++
	} else if !v.digits() {
		return false
	}
	if v.i < len(v.b) && v.b[v.i] == '.' {
		v.i++
		if !v.digits() {
			return false
		}
	}
	if v.i < len(v.b) && (v.b[v.i] == 'e' || v.b[v.i] == 'E') {
		v.i++
		if v.i < len(v.b) && (v.b[v.i] == '+' || v.b[v.i] == '-') {
			v.i++
		}
		if !v.digits() {
			return false
		}
	}
	return true
}

// digits consumes one or more decimal digits.
func (v *validator) digits() bool {
	start := v.i
	for v.i < len(v.b) && v.b[v.i] >= '0' && v.b[v.i] <= '9' {
		v.i++
	}
	return v.i > start
}

// ValidJSONPrefix reports whether b starts with one valid JSON value
// (leading whitespace allowed) and returns the offset just past it: the
// single-pass check of ValidJSON for a stream of concatenated values, as a
// json.Decoder reads them one at a time.
func ValidJSONPrefix(b []byte) (end int, ok bool) {
	v := validator{b: b}
	v.ws()
	if !v.value(0) {
		return v.i, false
	}
	return v.i, true
}
