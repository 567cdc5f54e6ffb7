package elastic

import (
	"bytes"
	"strings"

	"github.com/castellan-itdr/castellan/sinks/jsonscan"
)

// bulkSummary reads the errors flag and the number of items of a _bulk
// response as json.Unmarshal into struct{Errors bool; Items []struct{}}
// would, in one validating pass without building the items. ok is false
// when the body is not that shape (invalid JSON, a wrong type); the caller
// then decodes it with encoding/json for the error.
func bulkSummary(b []byte) (errorsSeen bool, items int, ok bool) {
	if !jsonscan.Valid(b) {
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
