package windows

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// MaxLineBytes caps one JSON line; longer lines are rejected unread.
const MaxLineBytes = 1 << 20

// ErrMalformed is wrapped by every DecodeJSON error.
var ErrMalformed = errors.New("malformed windows event")

// nxlogEnvelope are the keys of a flat (NXLog / Logstash) record that are not
// EventData: the NXLog im_msvistalog envelope and what shippers add.
var nxlogEnvelope = map[string]bool{
	"@timestamp": true, "@version": true, "ActivityID": true, "Category": true,
	"Channel": true, "ERROR_EVT_UNRESOLVED": true, "EventID": true,
	"EventReceivedTime": true, "EventTime": true, "EventType": true,
	"ExecutionProcessID": true, "Hostname": true, "Keywords": true, "Level": true,
	"Message": true, "Opcode": true, "OpcodeValue": true, "ProviderGuid": true,
	"ProviderName": true, "RecordNumber": true, "RelatedActivityID": true,
	"Severity": true, "SeverityValue": true, "SourceModuleName": true,
	"SourceModuleType": true, "SourceName": true, "Task": true, "ThreadID": true,
	"TimeCreated": true, "Version": true, "host": true, "port": true, "tags": true,
	"type": true, "type_name": true, "path": true, "log": true, "agent": true,
	"ecs": true, "input": true, "fields": true, "beat": true,
	"EventTypeOrignal": true, "EventData": true, "UserData": true,
	// The resolved user of the System section (not EventData), see
	// envelopeUserKeys for the exception.
	"AccountName": true, "AccountType": true, "Domain": true, "UserID": true,
}

// DecodeJSON parses one JSON line in either forwarded shape, detected by
// content: Winlogbeat / ECS ({"winlog":{...}}) or flat NXLog style (EventData
// at top level). Numbers may be JSON numbers or strings. Errors wrap
// ErrMalformed: non-JSON, not an object, no event id, longer than
// MaxLineBytes.
//
// The strings in the returned Record share one copy of line.
func DecodeJSON(line []byte) (Record, error) {
	if len(line) > MaxLineBytes {
		return Record{}, fmt.Errorf("%w: line of %d bytes exceeds %d", ErrMalformed, len(line), MaxLineBytes)
	}
	line = trimJSONSpace(line)
	if len(line) == 0 || line[0] != '{' {
		return Record{}, fmt.Errorf("%w: not a JSON object", ErrMalformed)
	}
	var buf [96]member
	top, err := objectMembers(string(line), buf[:0])
	if err != nil {
		return Record{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if raw, ok := find(top, "winlog"); ok && isObject(raw) {
		return decodeWinlogbeat(top, raw)
	}
	return decodeFlat(top)
}

// DecodeJSONEvent is DecodeJSON followed by Normalize.
func DecodeJSONEvent(line []byte, dataset string) (schema.Event, error) {
	r, err := DecodeJSON(line)
	if err != nil {
		return schema.Event{}, err
	}
	// r.Data is ours alone: hand it over as Original without a copy.
	return normalize(&r, dataset, r.Data), nil
}

// trimJSONSpace trims the four JSON whitespace bytes (bytes.TrimSpace would
// also accept Unicode spaces JSON does not).
func trimJSONSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// find returns the raw value of the last member named key (last wins, as in
// encoding/json).
func find(ms []member, key string) (string, bool) {
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].key == key {
			return ms[i].val, true
		}
	}
	return "", false
}

func get(ms []member, key string) string {
	v, _ := find(ms, key)
	return v
}

// addScalars copies the scalar members of a raw object into dst; nested
// values and nulls are skipped.
func addScalars(dst map[string]string, raw string) {
	var buf [64]member
	ms, err := objectMembers(raw, buf[:0])
	if err != nil {
		return // already validated as part of the line
	}
	for _, m := range ms {
		if v, ok := scalar(m.val); ok {
			dst[m.key] = v
		}
	}
}

func decodeWinlogbeat(top []member, raw string) (Record, error) {
	var buf [32]member
	w, err := objectMembers(raw, buf[:0])
	if err != nil {
		return Record{}, fmt.Errorf("%w: winlog: %v", ErrMalformed, err)
	}
	r := Record{
		Channel:  stringValue(get(w, "channel")),
		Computer: stringValue(get(w, "computer_name")),
		Provider: stringValue(get(w, "provider_name")),
	}
	id, ok, err := intValue(get(w, "event_id"))
	if !ok && err == nil {
		// ECS event.code carries the id too.
		if ev, found := find(top, "event"); found && isObject(ev) {
			var eb [16]member
			if em, e := objectMembers(ev, eb[:0]); e == nil {
				id, ok, err = intValue(get(em, "code"))
			}
		}
	}
	if err != nil {
		return Record{}, fmt.Errorf("%w: event_id: %v", ErrMalformed, err)
	}
	if !ok {
		return Record{}, fmt.Errorf("%w: no event id", ErrMalformed)
	}
	r.EventID = id
	if r.RecordID, err = uintValue(get(w, "record_id")); err != nil {
		return Record{}, fmt.Errorf("%w: record_id: %v", ErrMalformed, err)
	}
	if r.Computer == "" {
		if hv, found := find(top, "host"); found && isObject(hv) {
			var hb [16]member
			if hm, e := objectMembers(hv, hb[:0]); e == nil {
				r.Computer = cmp(stringValue(get(hm, "hostname")), stringValue(get(hm, "name")))
			}
		}
	}
	r.Time = parseTime(stringValue(get(top, "@timestamp")))
	if r.Time.IsZero() {
		r.Time = parseTime(stringValue(get(w, "time_created")))
	}
	r.Data = make(map[string]string, 32)
	for _, k := range [...]string{"event_data", "user_data"} {
		if v, found := find(w, k); found && isObject(v) {
			addScalars(r.Data, v)
		}
	}
	return r, nil
}

func cmp(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func decodeFlat(top []member) (Record, error) {
	var r Record
	raw, ok := find(top, "EventID")
	if !ok {
		raw, ok = find(top, "EventId")
	}
	if !ok {
		return Record{}, fmt.Errorf("%w: no event id", ErrMalformed)
	}
	id, ok, err := intValue(raw)
	if err != nil {
		return Record{}, fmt.Errorf("%w: EventID: %v", ErrMalformed, err)
	}
	if !ok {
		return Record{}, fmt.Errorf("%w: no event id", ErrMalformed)
	}
	r.EventID = id
	r.Channel = stringValue(get(top, "Channel"))
	r.Computer = cmp(stringValue(get(top, "Hostname")), stringValue(get(top, "Computer")))
	r.Provider = cmp(stringValue(get(top, "SourceName")), stringValue(get(top, "ProviderName")))
	rec, ok := find(top, "RecordNumber")
	if !ok {
		rec = get(top, "EventRecordID")
	}
	if r.RecordID, err = uintValue(rec); err != nil {
		return Record{}, fmt.Errorf("%w: RecordNumber: %v", ErrMalformed, err)
	}
	for _, k := range [...]string{"TimeCreated", "@timestamp", "EventTime"} {
		if r.Time = parseTime(stringValue(get(top, k))); !r.Time.IsZero() {
			break
		}
	}
	// NXLog renames a clashing EventData "EventType" after moving its own
	// to EventTypeOrignal; then EventType is EventData.
	_, renamed := find(top, "EventTypeOrignal")
	r.Data = make(map[string]string, len(top))
	for _, m := range top {
		if nxlogEnvelope[m.key] && !(renamed && m.key == "EventType") && !(m.key == "AccountName" && r.EventID == 7045) {
			continue
		}
		if v, ok := scalar(m.val); ok {
			r.Data[m.key] = v
		}
	}
	// Some shippers nest EventData / UserData as objects.
	for _, k := range [...]string{"EventData", "UserData"} {
		if v, found := find(top, k); found && isObject(v) {
			addScalars(r.Data, v)
		}
	}
	return r, nil
}

// intValue reads an event id given as a JSON number or string; ok is false
// when absent or empty.
func intValue(raw string) (int, bool, error) { return parseEventID(stringValue(raw)) }

// parseEventID reads a decimal event id; ok is false when s is blank.
func parseEventID(s string) (int, bool, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != math.Trunc(f) || f < 0 || f > math.MaxUint16 {
			return 0, false, fmt.Errorf("not an event id: %q", truncate(s))
		}
		n = uint64(f)
	}
	if n > math.MaxUint16 {
		return 0, false, fmt.Errorf("event id %d out of range", n)
	}
	return int(n), true, nil
}

// uintValue reads a record id given as a JSON number or string; absent is 0.
func uintValue(raw string) (uint64, error) { return parseRecordID(stringValue(raw)) }

// parseRecordID reads a decimal record id; blank is 0.
func parseRecordID(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != math.Trunc(f) || f < 0 || f >= math.MaxUint64 {
			return 0, fmt.Errorf("not a record id: %q", truncate(s))
		}
		n = uint64(f)
	}
	return n, nil
}

func truncate(s string) string {
	if len(s) > 32 {
		return s[:32] + "..."
	}
	return s
}

// timeLayouts are tried in order; zone-less layouts read as UTC.
var timeLayouts = [...]string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
}

// parseTime parses the time formats seen in forwarded events; failure gives
// the zero time.
func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}
