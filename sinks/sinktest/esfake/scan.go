package esfake

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/castellan-itdr/castellan/sinks/jsonscan"
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
	m := jsonscan.Object(line)
	for {
		rawKey, val, ok := m.Next()
		if !ok {
			break
		}
		key, err := jsonscan.Unquote(rawKey)
		if err != nil {
			return "", a, err
		}
		if n == 0 || key != name {
			n++
		}
		a = action{} // a map value decodes fresh: the last copy wins
		name = key
		if err := a.set(val); err != nil && typeErr == nil {
			typeErr = err
		}
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
	m := jsonscan.Object(v)
	for {
		rawKey, val, ok := m.Next()
		if !ok {
			return nil
		}
		key, err := jsonscan.Unquote(rawKey)
		if err != nil {
			return err
		}
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
			switch val[0] {
			case 'n': // null leaves the field as it was
			case '"':
				s, err := jsonscan.Unquote(val)
				if err != nil {
					return err
				}
				*p = s
			default:
				return errAction
			}
		}
	}
}

func fold(key, name string) bool { return key == name || strings.EqualFold(key, name) }

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
		dst = jsonscan.AppendString(dst, names[i])
		dst = append(dst, ':')
		dst = items[i].appendJSON(dst)
		dst = append(dst, '}')
	}
	return append(dst, "]}"...)
}

func (it *bulkItem) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"_index":`...)
	dst = jsonscan.AppendString(dst, it.Index)
	dst = append(dst, `,"_id":`...)
	dst = jsonscan.AppendString(dst, it.ID)
	if it.Version != 0 {
		dst = append(dst, `,"_version":`...)
		dst = strconv.AppendInt(dst, int64(it.Version), 10)
	}
	if it.Result != "" {
		dst = append(dst, `,"result":`...)
		dst = jsonscan.AppendString(dst, it.Result)
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
