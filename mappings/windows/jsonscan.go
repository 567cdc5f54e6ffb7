package windows

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// A small validating JSON scanner for the forwarded-event hot path: it walks
// one object's members and returns each value as a raw substring of the
// input, so keys and plain string values need no allocation. It accepts
// exactly RFC 8259 JSON (as encoding/json does) and caps nesting.

// maxDepth caps object/array nesting; forwarded events nest four deep.
const maxDepth = 64

var errDepth = errors.New("nesting too deep")

// member is one object member: a decoded key and its raw value text.
type member struct {
	key string
	val string
}

type syntaxError struct {
	off int
	msg string
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at offset %d: %s", e.off, e.msg)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

// objectMembers parses s, which must be exactly one JSON object (surrounding
// space allowed), and appends its members to dst.
func objectMembers(s string, dst []member) ([]member, error) {
	i := skipSpace(s, 0)
	if i >= len(s) || s[i] != '{' {
		return dst, &syntaxError{i, "not an object"}
	}
	end, dst, err := scanObject(s, i, 1, dst, true)
	if err != nil {
		return dst, err
	}
	if end = skipSpace(s, end); end != len(s) {
		return dst, &syntaxError{end, "data after the object"}
	}
	return dst, nil
}

// scanObject scans the object starting at s[i] == '{' and returns the index
// after it. With collect, members are appended to dst.
func scanObject(s string, i, depth int, dst []member, collect bool) (int, []member, error) {
	if depth > maxDepth {
		return 0, dst, errDepth
	}
	i = skipSpace(s, i+1)
	if i < len(s) && s[i] == '}' {
		return i + 1, dst, nil
	}
	for {
		if i >= len(s) || s[i] != '"' {
			return 0, dst, &syntaxError{i, "want a member name"}
		}
		kEnd, err := scanString(s, i)
		if err != nil {
			return 0, dst, err
		}
		key := s[i:kEnd]
		i = skipSpace(s, kEnd)
		if i >= len(s) || s[i] != ':' {
			return 0, dst, &syntaxError{i, "want ':'"}
		}
		i = skipSpace(s, i+1)
		vEnd, err := scanValue(s, i, depth)
		if err != nil {
			return 0, dst, err
		}
		if collect {
			dst = append(dst, member{key: unquote(key), val: s[i:vEnd]})
		}
		i = skipSpace(s, vEnd)
		if i >= len(s) {
			return 0, dst, &syntaxError{i, "unexpected end of input"}
		}
		switch s[i] {
		case ',':
			i = skipSpace(s, i+1)
		case '}':
			return i + 1, dst, nil
		default:
			return 0, dst, &syntaxError{i, "want ',' or '}'"}
		}
	}
}

func scanArray(s string, i, depth int) (int, error) {
	if depth > maxDepth {
		return 0, errDepth
	}
	i = skipSpace(s, i+1)
	if i < len(s) && s[i] == ']' {
		return i + 1, nil
	}
	for {
		end, err := scanValue(s, i, depth)
		if err != nil {
			return 0, err
		}
		i = skipSpace(s, end)
		if i >= len(s) {
			return 0, &syntaxError{i, "unexpected end of input"}
		}
		switch s[i] {
		case ',':
			i = skipSpace(s, i+1)
		case ']':
			return i + 1, nil
		default:
			return 0, &syntaxError{i, "want ',' or ']'"}
		}
	}
}

// scanValue validates the value at s[i] and returns the index after it.
func scanValue(s string, i, depth int) (int, error) {
	if i >= len(s) {
		return 0, &syntaxError{i, "unexpected end of input"}
	}
	switch c := s[i]; {
	case c == '"':
		return scanString(s, i)
	case c == '{':
		end, _, err := scanObject(s, i, depth+1, nil, false)
		return end, err
	case c == '[':
		return scanArray(s, i, depth+1)
	case c == '-' || (c >= '0' && c <= '9'):
		return scanNumber(s, i)
	case strings.HasPrefix(s[i:], "true"):
		return i + 4, nil
	case strings.HasPrefix(s[i:], "false"):
		return i + 5, nil
	case strings.HasPrefix(s[i:], "null"):
		return i + 4, nil
	}
	return 0, &syntaxError{i, "unexpected character"}
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// scanString validates the string literal at s[i] == '"' and returns the
// index after the closing quote.
func scanString(s string, i int) (int, error) {
	start := i
	i++
	// Fast path: up to the next quote there is no escape or control byte.
	if j := strings.IndexByte(s[i:], '"'); j >= 0 {
		seg := s[i : i+j]
		plain := true
		for k := 0; k < len(seg); k++ {
			if c := seg[k]; c < 0x20 || c == '\\' {
				plain = false
				break
			}
		}
		if plain {
			return i + j + 1, nil
		}
	}
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			return i + 1, nil
		case c == '\\':
			if i+1 >= len(s) {
				return 0, &syntaxError{i, "unterminated escape"}
			}
			switch s[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+5 >= len(s) || !isHex(s[i+2]) || !isHex(s[i+3]) || !isHex(s[i+4]) || !isHex(s[i+5]) {
					return 0, &syntaxError{i, "bad \\u escape"}
				}
				i += 6
			default:
				return 0, &syntaxError{i, "bad escape"}
			}
		case c < 0x20:
			return 0, &syntaxError{i, "control character in string"}
		default:
			i++
		}
	}
	return 0, &syntaxError{start, "unterminated string"}
}

func scanDigits(s string, i int) int {
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// scanNumber validates the number at s[i] and returns the index after it.
func scanNumber(s string, i int) (int, error) {
	start := i
	if s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		i = scanDigits(s, i+1)
	default:
		return 0, &syntaxError{start, "bad number"}
	}
	if i < len(s) && s[i] == '.' {
		j := scanDigits(s, i+1)
		if j == i+1 {
			return 0, &syntaxError{start, "bad number"}
		}
		i = j
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := scanDigits(s, i)
		if j == i {
			return 0, &syntaxError{start, "bad number"}
		}
		i = j
	}
	return i, nil
}

// unquote decodes a valid JSON string literal. Literals without escapes and
// with valid UTF-8 are returned as substrings (no copy).
func unquote(lit string) string {
	body := lit[1 : len(lit)-1]
	if strings.IndexByte(body, '\\') < 0 && utf8.ValidString(body) {
		return body
	}
	var out string
	if json.Unmarshal([]byte(lit), &out) != nil {
		return ""
	}
	return out
}

// scalar renders a raw JSON string, number or boolean as a string; null,
// objects and arrays report false.
func scalar(raw string) (string, bool) {
	if raw == "" {
		return "", false
	}
	switch raw[0] {
	case '"':
		return unquote(raw), true
	case 't', 'f':
		return raw, true
	case 'n', '{', '[':
		return "", false
	}
	return raw, true // a number, as written
}

// stringValue is scalar without the ok.
func stringValue(raw string) string {
	s, _ := scalar(raw)
	return s
}

func isObject(raw string) bool { return raw != "" && raw[0] == '{' }
