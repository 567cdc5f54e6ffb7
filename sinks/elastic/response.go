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
	b = b[jsonscan.SkipSpace(b, 0):]
	if b[0] != '{' {
		return false, 0, false
	}
	m := jsonscan.Object(b)
	for {
		rawKey, v, more := m.Next()
		if !more {
			return errorsSeen, items, true
		}
		key := rawKey[1 : len(rawKey)-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			return false, 0, false // escaped key: let encoding/json match it
		}
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
	}
}

// countObjects counts the elements of a valid JSON array, each an object
// or null.
func countObjects(v []byte) (int, bool) {
	n := 0
	e := jsonscan.Array(v)
	for {
		el, more := e.Next()
		if !more {
			return n, true
		}
		if el[0] != '{' && el[0] != 'n' {
			return 0, false
		}
		n++
	}
}
