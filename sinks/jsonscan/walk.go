package jsonscan

import (
	"encoding/json"
	"unicode/utf8"
)

// Members walks the top-level members of a valid JSON object without
// decoding them: the split the doubles make to decode only the members
// they inspect. The object must have passed Valid or ValidPrefix; on
// anything else the walk's results are undefined.
type Members struct {
	b    []byte
	i    int
	done bool
}

// Object starts a walk of obj, a valid JSON object with its '{' at obj[0].
func Object(obj []byte) Members {
	i := skipWS(obj, 1)
	return Members{b: obj, i: i, done: obj[i] == '}'}
}

// Next returns the next member's key (still quoted: see Unquote) and raw
// value, or ok false after the last member.
func (m *Members) Next() (key, val []byte, ok bool) {
	if m.done {
		return nil, nil, false
	}
	b, j := m.b, m.i
	key = b[j:EndString(b, j)]
	j = skipWS(b, j+len(key))
	j = skipWS(b, j+1) // ':'
	vs := j
	j = EndValue(b, j)
	val = b[vs:j]
	j = skipWS(b, j)
	if b[j] == '}' {
		m.done = true
	} else {
		j = skipWS(b, j+1) // ','
	}
	m.i = j
	return key, val, true
}

// Elements walks the elements of a valid JSON array (see Members).
type Elements struct {
	b    []byte
	i    int
	done bool
}

// Array starts a walk of arr, a valid JSON array with its '[' at arr[0].
func Array(arr []byte) Elements {
	i := skipWS(arr, 1)
	return Elements{b: arr, i: i, done: arr[i] == ']'}
}

// Next returns the next element's raw value, or ok false after the last.
func (e *Elements) Next() (val []byte, ok bool) {
	if e.done {
		return nil, false
	}
	b, j := e.b, e.i
	val = b[j:EndValue(b, j)]
	j = skipWS(b, j+len(val))
	if b[j] == ']' {
		e.done = true
	} else {
		j = skipWS(b, j+1) // ','
	}
	e.i = j
	return val, true
}

// Unquote decodes a valid JSON string, quotes included, as json.Unmarshal
// into a string would: directly when it has no escapes and is valid UTF-8,
// else through encoding/json (which also replaces invalid UTF-8).
func Unquote(raw []byte) (string, error) {
	body := raw[1 : len(raw)-1]
	plain := true
	for _, c := range body {
		if c == '\\' || c >= utf8.RuneSelf {
			plain = false
			break
		}
	}
	if plain || (!containsByte(body, '\\') && utf8.Valid(body)) {
		return string(body), nil
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err
}

func containsByte(b []byte, c byte) bool {
	for _, x := range b {
		if x == c {
			return true
		}
	}
	return false
}

// SkipSpace returns the offset of the first byte at or after b[i] that is
// not JSON whitespace (len(b) if none).
func SkipSpace(b []byte, i int) int { return skipWS(b, i) }

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// EndString returns the offset past the JSON string whose opening quote
// is b[i], or -1 when b ends first. It finds the closing quote only: the
// string's contents are not checked.
func EndString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// EndValue returns the offset past the JSON value starting at b[i], or -1
// when b ends first (or at i). It only tracks strings and nesting depth:
// the value is not checked (run Valid for that).
func EndValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return EndString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = EndString(b, i)
				if i < 0 {
					return -1
				}
				i--
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return -1
	}
	for ; i < len(b); i++ {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
	}
	return i
}
