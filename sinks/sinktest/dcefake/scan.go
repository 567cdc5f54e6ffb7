package dcefake

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// validate checks that body is a JSON array of objects whose fields are
// declared columns holding values of the column's type (or null). It
// returns the raw rows (when keep) and their EventIds ("" when a row has
// none). It is a strict single-pass scanner: the double must not be the
// bottleneck of the sink's benchmark, and encoding/json into maps was.
func validate(body []byte, cols map[string]string, keep bool) ([]json.RawMessage, []string, error) {
	s := scanner{b: body}
	s.ws()
	if !s.eat('[') {
		return nil, nil, errors.New("The request body must be a JSON array of records.")
	}
	var rows []json.RawMessage
	var ids []string
	s.ws()
	if s.eat(']') {
		return rows, ids, s.end()
	}
	for i := 0; ; i++ {
		s.ws()
		start := s.i
		id, err := s.record(cols)
		if err != nil {
			return nil, nil, fmt.Errorf("Record %d: %v", i, err)
		}
		if keep {
			rows = append(rows, json.RawMessage(body[start:s.i]))
		}
		ids = append(ids, id)
		s.ws()
		if s.eat(',') {
			continue
		}
		if s.eat(']') {
			return rows, ids, s.end()
		}
		return nil, nil, fmt.Errorf("The request body is not a JSON array: unexpected input at offset %d.", s.i)
	}
}

type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) eat(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *scanner) end() error {
	s.ws()
	if s.i != len(s.b) {
		return fmt.Errorf("The request body has data after the array at offset %d.", s.i)
	}
	return nil
}

// record scans one object and checks its columns.
func (s *scanner) record(cols map[string]string) (id string, err error) {
	if !s.eat('{') {
		return "", errors.New("not a JSON object")
	}
	s.ws()
	if s.eat('}') {
		return "", nil
	}
	for {
		s.ws()
		key, esc, err := s.str()
		if err != nil {
			return "", err
		}
		typ, ok := cols[string(key)]
		if !ok || esc {
			return "", fmt.Errorf("column '%s' is not declared in the stream", key)
		}
		s.ws()
		if !s.eat(':') {
			return "", errors.New("expected ':'")
		}
		s.ws()
		vs := s.i
		if err := s.value(0); err != nil {
			return "", fmt.Errorf("column '%s': %v", key, err)
		}
		v := s.b[vs:s.i]
		if err := checkType(v, typ); err != nil {
			return "", fmt.Errorf("column '%s' (%s): %v", key, typ, err)
		}
		if string(key) == "EventId" && v[0] == '"' {
			if u, err := strconv.Unquote(string(v)); err == nil {
				id = u
			} else {
				_ = json.Unmarshal(v, &id)
			}
		}
		s.ws()
		if s.eat(',') {
			continue
		}
		if s.eat('}') {
			return id, nil
		}
		return "", errors.New("expected ',' or '}'")
	}
}

// str scans a string and returns its raw contents and whether it had
// escapes.
func (s *scanner) str() ([]byte, bool, error) {
	if !s.eat('"') {
		return nil, false, errors.New("expected a string")
	}
	start, esc := s.i, false
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return s.b[start : s.i-1], esc, nil
		case c == '\\':
			esc = true
			if s.i+1 >= len(s.b) {
				return nil, false, errors.New("unterminated string")
			}
			switch s.b[s.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			case 'u':
				if s.i+6 > len(s.b) {
					return nil, false, errors.New("bad \\u escape")
				}
				for _, h := range s.b[s.i+2 : s.i+6] {
					if !isHex(h) {
						return nil, false, errors.New("bad \\u escape")
					}
				}
				s.i += 6
			default:
				return nil, false, errors.New("bad escape")
			}
		case c < 0x20:
			return nil, false, errors.New("control character in string")
		default:
			s.i++
		}
	}
	return nil, false, errors.New("unterminated string")
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

const maxDepth = 64

// value scans any JSON value.
func (s *scanner) value(depth int) error {
	if depth > maxDepth {
		return errors.New("nested too deeply")
	}
	if s.i >= len(s.b) {
		return errors.New("unexpected end of input")
	}
	switch c := s.b[s.i]; {
	case c == '"':
		_, _, err := s.str()
		return err
	case c == '{':
		s.i++
		s.ws()
		if s.eat('}') {
			return nil
		}
		for {
			s.ws()
			if _, _, err := s.str(); err != nil {
				return err
			}
			s.ws()
			if !s.eat(':') {
				return errors.New("expected ':'")
			}
			s.ws()
			if err := s.value(depth + 1); err != nil {
				return err
			}
			s.ws()
			if s.eat(',') {
				continue
			}
			if s.eat('}') {
				return nil
			}
			return errors.New("expected ',' or '}'")
		}
	case c == '[':
		s.i++
		s.ws()
		if s.eat(']') {
			return nil
		}
		for {
			s.ws()
			if err := s.value(depth + 1); err != nil {
				return err
			}
			s.ws()
			if s.eat(',') {
				continue
			}
			if s.eat(']') {
				return nil
			}
			return errors.New("expected ',' or ']'")
		}
	case c == 't':
		return s.lit("true")
	case c == 'f':
		return s.lit("false")
	case c == 'n':
		return s.lit("null")
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	}
	return fmt.Errorf("unexpected character %q", s.b[s.i])
}

func (s *scanner) lit(word string) error {
	if !bytes.HasPrefix(s.b[s.i:], []byte(word)) {
		return errors.New("bad literal")
	}
	s.i += len(word)
	return nil
}

func (s *scanner) number() error {
	start := s.i
	s.eat('-')
	digits := func() int {
		n := 0
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	if s.eat('0') {
		// no leading zeros
	} else if digits() == 0 {
		return errors.New("bad number")
	}
	if s.eat('.') && digits() == 0 {
		return errors.New("bad number")
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if !s.eat('+') {
			s.eat('-')
		}
		if digits() == 0 {
			return errors.New("bad number")
		}
	}
	if s.i == start {
		return errors.New("bad number")
	}
	return nil
}

func checkType(v []byte, typ string) error {
	if len(v) == 0 || string(v) == "null" {
		return nil
	}
	switch typ {
	case "string", "guid":
		if v[0] != '"' {
			return errors.New("not a string")
		}
	case "datetime":
		if v[0] != '"' {
			return errors.New("not a datetime string")
		}
		str := string(v[1 : len(v)-1])
		if bytes.IndexByte(v, '\\') >= 0 {
			if err := json.Unmarshal(v, &str); err != nil {
				return errors.New("not a datetime string")
			}
		}
		if _, err := time.Parse(time.RFC3339Nano, str); err != nil {
			return fmt.Errorf("not an ISO 8601 datetime: %q", str)
		}
	case "int", "long":
		if bytes.ContainsAny(v, ".eE") || !(v[0] == '-' || (v[0] >= '0' && v[0] <= '9')) {
			return errors.New("not an integer")
		}
	case "real":
		if !(v[0] == '-' || (v[0] >= '0' && v[0] <= '9')) {
			return errors.New("not a number")
		}
	case "boolean":
		if string(v) != "true" && string(v) != "false" {
			return errors.New("not a boolean")
		}
	case "dynamic":
	default:
		return fmt.Errorf("unknown column type %q", typ)
	}
	return nil
}
