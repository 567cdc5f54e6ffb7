package esfake

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/castellan-itdr/castellan/sinks/sinktest"
)

var errAction = errors.New("malformed action line")

// parseAction reads an action/metadata line as json.Unmarshal into a
// map[string]action would, in one validating pass: a JSON object with
// exactly one distinct key (a repeated key counts once, the last value
// wins) whose value is null or an object whose _index, _id and op_type
// (matched case-insensitively, other keys ignored) are strings or null.
func parseAction(line []byte) (name string, a action, err error) {
	if !sinktest.ValidJSON(line) || line[0] != '{' {
		return "", a, errAction
	}
	n := 0
	var typeErr error
	j := skipWS(line, 1)
	if line[j] == '}' {
		return "", a, errAction
	}
	for {
		ks := j
		j = endString(line, j)
		key, err := unquote(line[ks:j])
		if err != nil {
			return "", a, err
		}
		j = skipWS(line, j)
		j = skipWS(line, j+1)
		vs := j
		j = endValue(line, j)
		if n == 0 || key != name {
			n++
		}
		a = action{} // a map value decodes fresh: the last copy wins
		name = key
		if err := a.set(line[vs:j]); err != nil && typeErr == nil {
			typeErr = err
		}
		j = skipWS(line, j)
		if line[j] == '}' {
			break
		}
		j = skipWS(line, j+1)
	}
	if typeErr != nil {
		return "", a, typeErr
	}
	if n != 1 {
		return "", a, errAction
	}
	return name, a, nil
}

// set decodes a valid JSON value into a as encoding/json would.
func (a *action) set(v []byte) error {
	switch v[0] {
	case 'n':
		return nil
	case '{':
	default:
		return errAction
	}
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
		var p *string
		switch {
		case fold(key, "_index"):
			p = &a.Index
		case fold(key, "_id"):
			p = &a.ID
		case fold(key, "op_type"):
			p = &a.OpType
		}
		if p != nil {
			switch val := v[vs:j]; val[0] {
			case 'n': // null leaves the field as it was
			case '"':
				s, err := unquote(val)
				if err != nil {
					return err
				}
				*p = s
			default:
				return errAction
			}
		}
		j = skipWS(v, j)
		if v[j] == '}' {
			return nil
		}
		j = skipWS(v, j+1)
	}
}

func fold(key, name string) bool { return key == name || strings.EqualFold(key, name) }

// unquote decodes a valid JSON string: directly when it has no escapes and
// is valid UTF-8, else through encoding/json.
func unquote(raw []byte) (string, error) {
	body := raw[1 : len(raw)-1]
	plain := true
	for _, c := range body {
		if c == '\\' || c >= utf8.RuneSelf {
			plain = false
			break
		}
	}
	if plain {
		return string(body), nil
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err
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

// appendBulkResponse writes what json.Marshal writes for the _bulk
// response: {"errors":…,"took":…,"items":[{"<op>":<item>},…]}.
func appendBulkResponse(dst []byte, errorsSeen bool, took int64, names []string, items []bulkItem) []byte {
	dst = append(dst, `{"errors":`...)
	dst = strconv.AppendBool(dst, errorsSeen)
	dst = append(dst, `,"took":`...)
	dst = strconv.AppendInt(dst, took, 10)
	dst = append(dst, `,"items":[`...)
	for i := range items {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '{')
		dst = appendString(dst, names[i])
		dst = append(dst, ':')
		dst = items[i].appendJSON(dst)
		dst = append(dst, '}')
	}
	return append(dst, "]}"...)
}

func (it *bulkItem) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"_index":`...)
	dst = appendString(dst, it.Index)
	dst = append(dst, `,"_id":`...)
	dst = appendString(dst, it.ID)
	if it.Version != 0 {
		dst = append(dst, `,"_version":`...)
		dst = strconv.AppendInt(dst, int64(it.Version), 10)
	}
	if it.Result != "" {
		dst = append(dst, `,"result":`...)
		dst = appendString(dst, it.Result)
	}
	if it.Shards != nil {
		dst = append(dst, `,"_shards":{"total":`...)
		dst = strconv.AppendInt(dst, int64(it.Shards.Total), 10)
		dst = append(dst, `,"successful":`...)
		dst = strconv.AppendInt(dst, int64(it.Shards.Successful), 10)
		dst = append(dst, `,"failed":`...)
		dst = strconv.AppendInt(dst, int64(it.Shards.Failed), 10)
		dst = append(dst, '}')
	}
	if it.SeqNo != nil {
		dst = append(dst, `,"_seq_no":`...)
		dst = strconv.AppendInt(dst, int64(*it.SeqNo), 10)
	}
	if it.PrimaryTerm != 0 {
		dst = append(dst, `,"_primary_term":`...)
		dst = strconv.AppendInt(dst, int64(it.PrimaryTerm), 10)
	}
	dst = append(dst, `,"status":`...)
	dst = strconv.AppendInt(dst, int64(it.Status), 10)
	if it.Error != nil {
		dst = append(dst, `,"error":`...)
		b, _ := json.Marshal(it.Error) // failures are rare: keep encoding/json
		dst = append(dst, b...)
	}
	return append(dst, '}')
}

// appendString appends s as json.Marshal would: directly when it is plain
// printable ASCII, else through encoding/json.
func appendString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s)
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}
