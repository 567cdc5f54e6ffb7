package splunk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/castellan-itdr/castellan/mappings/cim"
	"github.com/castellan-itdr/castellan/mappings/schema"
	"github.com/castellan-itdr/castellan/sinks/delivery"
)

// envelope is the HEC metadata every event carries.
type envelope struct {
	Index, Source, Host, SourcetypePrefix string
}

// Sourcetype is the sourcetype of a record kind: <prefix>:<kind>.
func Sourcetype(prefix, kind string) string { return prefix + ":" + kind }

// appendEvent appends one HEC event object (no trailing newline) for it:
//
//	{"time":<@timestamp as epoch seconds.millis>,"host":…,"source":…,
//	 "sourcetype":"<prefix>:<kind>","index":…,
//	 "event":<the record's JSON with its CIM fields added>,
//	 "fields":{"castellan_id":"<id>"}}
//
// The event object has sorted keys. Where a CIM field name is already a key
// of the record with a different value (user is an object in the record and
// a name in CIM), the CIM value takes the key and the record's value moves
// to <key>_detail. Pure and deterministic.
func appendEvent(dst []byte, it delivery.Item, env envelope) ([]byte, error) {
	ts, fields, err := decode(it)
	if err != nil {
		return dst, err
	}
	var rec map[string]json.RawMessage
	if err := json.Unmarshal(it.Body, &rec); err != nil {
		return dst, fmt.Errorf("splunk: %s %s: body is not a JSON object: %w", it.Kind, it.ID, err)
	}
	for k, v := range fields {
		b, err := json.Marshal(v)
		if err != nil {
			return dst, fmt.Errorf("splunk: %s %s: CIM field %s: %w", it.Kind, it.ID, k, err)
		}
		if old, ok := rec[k]; ok && !bytes.Equal(old, b) {
			rec[k+"_detail"] = old
		}
		rec[k] = b
	}
	keys := make([]string, 0, len(rec))
	for k := range rec {
		keys = append(keys, k)
	}
	sort.Strings(keys)

	dst = append(dst, '{')
	if !ts.IsZero() {
		dst = append(dst, `"time":`...)
		dst = appendEpoch(dst, ts)
		dst = append(dst, ',')
	}
	dst = appendMeta(dst, "host", env.Host)
	dst = appendMeta(dst, "source", env.Source)
	dst = appendMeta(dst, "sourcetype", Sourcetype(env.SourcetypePrefix, it.Kind))
	dst = appendMeta(dst, "index", env.Index)
	dst = append(dst, `"event":{`...)
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendQuote(dst, k)
		dst = append(dst, ':')
		dst = append(dst, rec[k]...)
	}
	dst = append(dst, `},"fields":{"castellan_id":`...)
	id, _ := json.Marshal(it.ID)
	dst = append(dst, id...)
	dst = append(dst, "}}"...)
	return dst, nil
}

func appendMeta(dst []byte, key, val string) []byte {
	if val == "" {
		return dst
	}
	dst = append(dst, '"')
	dst = append(dst, key...)
	dst = append(dst, `":`...)
	b, _ := json.Marshal(val)
	dst = append(dst, b...)
	return append(dst, ',')
}

// appendEpoch writes t as epoch seconds with millisecond decimals, the form
// HEC reads as _time (milliseconds as an integer would be the far future).
func appendEpoch(dst []byte, t time.Time) []byte {
	ms := t.UnixMilli()
	sec, frac := ms/1000, ms%1000
	if frac < 0 {
		sec, frac = sec-1, frac+1000
	}
	dst = strconv.AppendInt(dst, sec, 10)
	dst = append(dst, '.')
	if frac < 100 {
		dst = append(dst, '0')
	}
	if frac < 10 {
		dst = append(dst, '0')
	}
	return strconv.AppendInt(dst, frac, 10)
}

// decode reads the record's time and CIM fields from its JSON.
func decode(it delivery.Item) (time.Time, map[string]any, error) {
	var (
		ts  time.Time
		rec schema.Record
		err error
	)
	switch it.Kind {
	case schema.RecordEvent:
		var v schema.Event
		err = json.Unmarshal(it.Body, &v)
		ts, rec = v.Timestamp, v
	case schema.RecordAlert:
		var v schema.Alert
		err = json.Unmarshal(it.Body, &v)
		ts, rec = v.Timestamp, v
	case schema.RecordIncident:
		var v schema.Incident
		err = json.Unmarshal(it.Body, &v)
		ts, rec = v.Timestamp, v
	case schema.RecordFinding:
		var v schema.Finding
		err = json.Unmarshal(it.Body, &v)
		ts, rec = v.Timestamp, v
	case schema.RecordAction:
		var v schema.Action
		err = json.Unmarshal(it.Body, &v)
		ts, rec = v.Timestamp, v
	default:
		return ts, nil, fmt.Errorf("splunk: unknown record kind %q (id %s)", it.Kind, it.ID)
	}
	if err != nil {
		return ts, nil, fmt.Errorf("splunk: decode %s %s: %w", it.Kind, it.ID, err)
	}
	return ts, cim.Fields(rec), nil
}
