package hecfake

import (
	"encoding/json"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/castellan-itdr/castellan/sinks/sinktest"
)

// errFormat is a value that is not JSON, or does not decode into an event
// object (an array, a string, a host that is not a string).
var errFormat = errors.New("invalid data format")

// nextEvent reads the next value of a request body from b[i:] into in, as
// json.Decoder.Decode(&in) would, in one validating pass and a split of the
// object's top-level members that decodes only the members the double
// inspects. end is -1 at the end of the stream.
func nextEvent(b []byte, i int, in *wireEvent) (end int, err error) {
	i = skipWS(b, i)
	if i >= len(b) {
		return -1, nil
	}
	n, ok := sinktest.ValidJSONPrefix(b[i:])
	if !ok {
		return i, errFormat
	}
	v := b[i : i+n]
	end = i + n
	switch v[0] {
	case '{':
	case 'n': // null decodes into the zero event
		return end, nil
	default:
		return end, errFormat
	}
	// v is valid JSON: walk its top-level members.
	j := skipWS(v, 1)
	if v[j] == '}' {
		return end, nil
	}
	var typeErr error
	for {
		ks := j
		j = endString(v, j)
		rawKey := v[ks:j]
		j = skipWS(v, j)
		j = skipWS(v, j+1) // ':'
		vs := j
		j = endValue(v, j)
		val := v[vs:j]
		if err := in.set(rawKey, val); err != nil && typeErr == nil {
			typeErr = err
		}
		j = skipWS(v, j)
		if v[j] == '}' {
			break
		}
		j = skipWS(v, j+1) // ','
	}
	return end, typeErr
}

// set stores one member as encoding/json would: keys match the struct's
// names case-insensitively, later duplicates win, and a value of the wrong
// type is an error.
func (in *wireEvent) set(rawKey, val []byte) error {
	key, err := unquote(rawKey)
	if err != nil {
		return err
	}
	null := val[0] == 'n'
	str := func(p **string) error {
		switch {
		case null:
			*p = nil
		case val[0] == '"':
			s, err := unquote(val)
			if err != nil {
				return err
			}
			*p = &s
		default:
			return errFormat
		}
		return nil
	}
	switch {
	case fold(key, "time"):
		in.Time = json.RawMessage(val)
	case fold(key, "host"):
		return str(&in.Host)
	case fold(key, "source"):
		return str(&in.Source)
	case fold(key, "sourcetype"):
		return str(&in.Sourcetype)
	case fold(key, "index"):
		return str(&in.Index)
	case fold(key, "event"):
		in.Event = json.RawMessage(val)
	case fold(key, "fields"):
		switch {
		case null:
			in.Fields = nil
		case val[0] == '{':
			if in.Fields == nil {
				in.Fields = map[string]any{}
			}
			return decodeFields(val, in.Fields)
		default:
			return errFormat
		}
	}
	return nil
}

func fold(key, name string) bool { return key == name || strings.EqualFold(key, name) }

// decodeFields decodes a valid JSON object into m: strings and arrays of
// strings directly (the flat values HEC accepts), anything else through
// encoding/json for parse's check to reject.
func decodeFields(v []byte, m map[string]any) error {
	j := skipWS(v, 1)
	if v[j] == '}' {
		return nil
	}
	for {
		ks := j
		j = endString(v, j)
		key, err := unquote(v[ks:j])
		if err != nil {
			return err
		}
		j = skipWS(v, j)
		j = skipWS(v, j+1)
		vs := j
		j = endValue(v, j)
		val, err := decodeFlat(v[vs:j])
		if err != nil {
			return err
		}
		m[key] = val
		j = skipWS(v, j)
		if v[j] == '}' {
			return nil
		}
		j = skipWS(v, j+1)
	}
}

func decodeFlat(val []byte) (any, error) {
	switch val[0] {
	case '"':
		return unquote(val)
	case '[':
		var out []any
		j := skipWS(val, 1)
		if val[j] == ']' {
			return []any{}, nil
		}
		for {
			if val[j] != '"' {
				var x any
				err := json.Unmarshal(val, &x)
				return x, err
			}
			es := j
			j = endString(val, j)
			s, err := unquote(val[es:j])
			if err != nil {
				return nil, err
			}
			out = append(out, s)
			j = skipWS(val, j)
			if val[j] == ']' {
				return out, nil
			}
			j = skipWS(val, j+1)
		}
	}
	var x any
	err := json.Unmarshal(val, &x)
	return x, err
}

// unquote decodes a valid JSON string: directly when it has no escapes and
// is valid UTF-8, else through encoding/json (which also replaces invalid
// UTF-8).
func unquote(raw []byte) (string, error) {
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

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// endString returns the offset past the valid JSON string at b[i].
func endString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// endValue returns the offset past the valid JSON value at b[i].
func endValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return endString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = endString(b, i) - 1
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
