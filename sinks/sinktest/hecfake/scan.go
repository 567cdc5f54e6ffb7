package hecfake

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/castellan-itdr/castellan/sinks/jsonscan"
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
	i = jsonscan.SkipSpace(b, i)
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
	var typeErr error
	m := jsonscan.Object(v)
	for {
		rawKey, val, ok := m.Next()
		if !ok {
			return end, typeErr
		}
		if err := in.set(rawKey, val); err != nil && typeErr == nil {
			typeErr = err
		}
	}
}

// set stores one member as encoding/json would: keys match the struct's
// names case-insensitively, later duplicates win, and a value of the wrong
// type is an error.
func (in *wireEvent) set(rawKey, val []byte) error {
	key, err := jsonscan.Unquote(rawKey)
	if err != nil {
		return err
	}
	null := val[0] == 'n'
	str := func(p **string) error {
		switch {
		case null:
			*p = nil
		case val[0] == '"':
			s, err := jsonscan.Unquote(val)
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
	members := jsonscan.Object(v)
	for {
		rawKey, val, ok := members.Next()
		if !ok {
			return nil
		}
		key, err := jsonscan.Unquote(rawKey)
		if err != nil {
			return err
		}
		flat, err := decodeFlat(val)
		if err != nil {
			return err
		}
		m[key] = flat
	}
}

func decodeFlat(val []byte) (any, error) {
	switch val[0] {
	case '"':
		return jsonscan.Unquote(val)
	case '[':
		var out []any
		elems := jsonscan.Array(val)
		for {
			e, ok := elems.Next()
			if !ok {
				if out == nil {
					return []any{}, nil
				}
				return out, nil
			}
			if e[0] != '"' {
				var x any
				err := json.Unmarshal(val, &x)
				return x, err
			}
			s, err := jsonscan.Unquote(e)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
	}
	var x any
	err := json.Unmarshal(val, &x)
	return x, err
}
