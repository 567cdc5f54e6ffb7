package splunk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/castellan-itdr/castellan/mappings/cim"
	"github.com/castellan-itdr/castellan/mappings/schema"
	"github.com/castellan-itdr/castellan/sinks/delivery"
	"github.com/castellan-itdr/castellan/sinks/jsonscan"
)

// envelope is the HEC metadata every event carries.
type envelope struct {
	Index, Source, Host, SourcetypePrefix string
}

// Sourcetype is the sourcetype of a record kind: <prefix>:<kind>.
func Sourcetype(prefix, kind string) string { return prefix + ":" + kind }

// Format is the delivery.Item format Encode writes: the HEC event object
// without its host, source, sourcetype and index, which Push adds from the
// sink's settings.
const Format = "hec/1"

// Encode builds a record's HEC event once, when it is queued, from the
// typed record (no decoding at push). fields.castellan_id stays the record
// id.
func Encode(r schema.Record) (delivery.Item, error) {
	body, err := marshalRecord(r)
	if err != nil {
		return delivery.Item{}, fmt.Errorf("splunk: encode %s %s: %w", r.RecordKind(), r.RecordID(), err)
	}
	ts, err := recordTime(r)
	if err != nil {
		return delivery.Item{}, err
	}
	var mb [24]member
	rec, err := topLevel(mb[:0], body)
	if err != nil {
		return delivery.Item{}, fmt.Errorf("splunk: %s %s: not a JSON object: %w", r.RecordKind(), r.RecordID(), err)
	}
	fp := fieldPool.Get().(*[]cim.Field)
	fields := cim.AppendFields((*fp)[:0], r)
	ev, err := appendHEC(make([]byte, 0, len(body)+len(body)/2+128), r.RecordKind(), r.RecordID(), ts, fields, rec, nil)
	clear(fields) // drop the record's strings before pooling
	*fp = fields[:0]
	fieldPool.Put(fp)
	if err != nil {
		return delivery.Item{}, err
	}
	return delivery.Item{Kind: r.RecordKind(), ID: r.RecordID(), Severity: r.RecordSeverity(), Format: Format, Body: ev}, nil
}

// fieldPool holds the CIM field slices Encode maps records into (an array
// on the stack escapes through cim.AppendFields: one allocation a record).
var fieldPool = sync.Pool{New: func() any { s := make([]cim.Field, 0, 24); return &s }}

// marshalRecord is json.Marshal(r) without its second pass: the schema
// records marshal themselves (json.Marshal inside), so their output is
// already compact and HTML-escaped, which is all that pass would do.
func marshalRecord(r schema.Record) ([]byte, error) {
	if m, ok := r.(json.Marshaler); ok {
		return m.MarshalJSON()
	}
	return json.Marshal(r)
}

// recordTime is the @timestamp of a record.
func recordTime(r schema.Record) (time.Time, error) {
	switch v := r.(type) {
	case schema.Event:
		return v.Timestamp, nil
	case *schema.Event:
		return v.Timestamp, nil
	case schema.Alert:
		return v.Timestamp, nil
	case *schema.Alert:
		return v.Timestamp, nil
	case schema.Incident:
		return v.Timestamp, nil
	case *schema.Incident:
		return v.Timestamp, nil
	case schema.Finding:
		return v.Timestamp, nil
	case *schema.Finding:
		return v.Timestamp, nil
	case schema.Action:
		return v.Timestamp, nil
	case *schema.Action:
		return v.Timestamp, nil
	}
	return time.Time{}, fmt.Errorf("splunk: unsupported record type %T (id %s)", r, r.RecordID())
}

// appendItem appends the HEC event of a queued item: an item in Format is
// framed with the envelope, a FormatRecord item decoded and mapped.
func appendItem(dst []byte, it delivery.Item, env envelope) ([]byte, error) {
	switch it.Format {
	case Format:
		return appendFramed(dst, it, env)
	case delivery.FormatRecord:
		return appendEvent(dst, it, env)
	}
	return dst, fmt.Errorf("splunk: %s %s: unknown item format %q", it.Kind, it.ID, it.Format)
}

// appendFramed inserts the envelope's metadata into an event written by
// Encode, after its optional "time" member: the same bytes appendEvent
// writes for the record.
func appendFramed(dst []byte, it delivery.Item, env envelope) ([]byte, error) {
	b := it.Body
	at := 1
	if bytes.HasPrefix(b, []byte(`{"time":`)) {
		k := bytes.IndexByte(b[len(`{"time":`):], ',')
		if k < 0 {
			return dst, fmt.Errorf("splunk: %s %s: queued %s event is truncated", it.Kind, it.ID, Format)
		}
		at = len(`{"time":`) + k + 1
	}
	if !bytes.HasPrefix(b[at:], []byte(`"event":`)) || len(b) < 2 || b[len(b)-1] != '}' {
		return dst, fmt.Errorf("splunk: %s %s: queued %s event is malformed", it.Kind, it.ID, Format)
	}
	dst = append(dst, b[:at]...)
	dst = appendEnvelope(dst, it.Kind, env)
	return append(dst, b[at:]...), nil
}

// appendEvent appends one HEC event object (no trailing newline) for a
// FormatRecord item:
//
//	{"time":<@timestamp as epoch seconds.millis>,"host":…,"source":…,
//	 "sourcetype":"<prefix>:<kind>","index":…,
//	 "event":<the record's JSON with its CIM fields added>,
//	 "fields":{"castellan_id":"<id>"}}
//
// The event object holds the CIM fields first (sorted), then the record's
// own keys in their order. Where a CIM field name is already a key of the
// record with the same value (id, severity) it is written once; with a
// different value (user is an object in the record and a name in CIM) the
// CIM value takes the key and the record's value moves to <key>_detail.
// Pure and deterministic.
func appendEvent(dst []byte, it delivery.Item, env envelope) ([]byte, error) {
	ts, fields, err := decode(it)
	if err != nil {
		return dst, err
	}
	rec, err := topLevel(nil, it.Body)
	if err != nil {
		return dst, fmt.Errorf("splunk: %s %s: body is not a JSON object: %w", it.Kind, it.ID, err)
	}
	return appendHEC(dst, it.Kind, it.ID, ts, fields, rec, &env)
}

// appendEnvelope appends the metadata members, each with a trailing comma.
func appendEnvelope(dst []byte, kind string, env envelope) []byte {
	dst = appendMeta(dst, "host", env.Host)
	dst = appendMeta(dst, "source", env.Source)
	dst = appendMeta(dst, "sourcetype", Sourcetype(env.SourcetypePrefix, kind))
	return appendMeta(dst, "index", env.Index)
}

// appendHEC writes the event of appendEvent from its parts; a nil env
// leaves the metadata out (Encode's form, framed at push).
func appendHEC(dst []byte, kind, id string, ts time.Time, fields []cim.Field, rec members, env *envelope) ([]byte, error) {
	dst = append(dst, '{')
	if !ts.IsZero() {
		dst = append(dst, `"time":`...)
		dst = appendEpoch(dst, ts)
		dst = append(dst, ',')
	}
	if env != nil {
		dst = appendEnvelope(dst, kind, *env)
	}
	dst = append(dst, `"event":{`...)
	var moved map[string]bool // record keys displaced by a CIM field
	n := 0
	for _, f := range fields {
		k := f.Name
		start := len(dst)
		if n > 0 {
			dst = append(dst, ',')
		}
		dst = jsonscan.AppendString(dst, k)
		dst = append(dst, ':')
		valStart := len(dst)
		dst = appendField(dst, f)
		if old, ok := rec.get(k); ok {
			if bytes.Equal(old, dst[valStart:]) {
				dst = dst[:start] // the record says the same: keep its copy only
				continue
			}
			if moved == nil {
				moved = map[string]bool{}
			}
			moved[k] = true
		}
		n++
	}
	for _, kv := range rec {
		if n > 0 {
			dst = append(dst, ',')
		}
		n++
		if moved[string(kv.key)] {
			dst = jsonscan.AppendString(dst, string(kv.key)+"_detail")
		} else {
			dst = append(dst, kv.rawKey...)
		}
		dst = append(dst, ':')
		dst = append(dst, kv.val...)
	}
	dst = append(dst, `},"fields":{"castellan_id":`...)
	dst = jsonscan.AppendString(dst, id)
	dst = append(dst, "}}"...)
	return dst, nil
}

// appendField appends a CIM field's value as JSON.
func appendField(dst []byte, f cim.Field) []byte {
	switch f.Kind {
	case cim.Number:
		return strconv.AppendInt(dst, int64(f.Num), 10)
	case cim.List:
		return appendStrings(dst, f.List)
	case cim.Annotations:
		dst = append(dst, `{"mitre_attack":`...)
		return append(appendStrings(dst, f.List), '}')
	}
	return jsonscan.AppendString(dst, f.Str)
}

func appendStrings(dst []byte, list []string) []byte {
	dst = append(dst, '[')
	for i, s := range list {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsonscan.AppendString(dst, s)
	}
	return append(dst, ']')
}

// member is one top-level key of a JSON object and its raw value.
type member struct {
	key    []byte // unescaped
	rawKey []byte // the key as written, quotes included
	val    []byte
}

type members []member

func (m members) get(key string) ([]byte, bool) {
	for _, kv := range m {
		if string(kv.key) == key {
			return kv.val, true
		}
	}
	return nil, false
}

// topLevel splits a JSON object into its top-level members without decoding
// the values. The body was already validated by decode.
func topLevel(out members, b []byte) (members, error) {
	i := jsonscan.SkipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, errors.New("not an object")
	}
	i = jsonscan.SkipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return out, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return nil, errors.New("want a key")
		}
		ks := i
		i = jsonscan.EndString(b, i)
		if i < 0 {
			return nil, errors.New("unterminated key")
		}
		raw := b[ks:i]
		key := raw[1 : len(raw)-1]
		if bytes.IndexByte(raw, '\\') >= 0 {
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return nil, err
			}
			key = []byte(s)
		}
		i = jsonscan.SkipSpace(b, i)
		if i >= len(b) || b[i] != ':' {
			return nil, errors.New("want ':'")
		}
		i = jsonscan.SkipSpace(b, i+1)
		vs := i
		i = jsonscan.EndValue(b, i)
		if i < 0 || i == vs {
			return nil, errors.New("bad value")
		}
		out = append(out, member{key: key, rawKey: raw, val: b[vs:i]})
		i = jsonscan.SkipSpace(b, i)
		if i >= len(b) {
			return nil, errors.New("unterminated object")
		}
		switch b[i] {
		case ',':
			i = jsonscan.SkipSpace(b, i+1)
		case '}':
			return out, nil
		default:
			return nil, errors.New("want ',' or '}'")
		}
	}
}

func appendMeta(dst []byte, key, val string) []byte {
	if val == "" {
		return dst
	}
	dst = append(dst, '"')
	dst = append(dst, key...)
	dst = append(dst, `":`...)
	dst = jsonscan.AppendString(dst, val)
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
func decode(it delivery.Item) (time.Time, []cim.Field, error) {
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
	return ts, cim.AppendFields(nil, rec), nil
}
