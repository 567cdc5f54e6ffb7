package windows

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

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
func DecodeJSON(line []byte) (Record, error) {
	if len(line) > MaxLineBytes {
		return Record{}, fmt.Errorf("%w: line of %d bytes exceeds %d", ErrMalformed, len(line), MaxLineBytes)
	}
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] != '{' {
		return Record{}, fmt.Errorf("%w: not a JSON object", ErrMalformed)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(line, &top); err != nil {
		return Record{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if raw, ok := top["winlog"]; ok && isObject(raw) {
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
	orig := r.Data
	if orig == nil {
		orig = make(map[string]string, 3)
	}
	return normalize(&r, dataset, orig), nil
}

// winlog is the Winlogbeat "winlog" object.
type winlog struct {
	EventID      json.RawMessage `json:"event_id"`
	Channel      string          `json:"channel"`
	ComputerName string          `json:"computer_name"`
	RecordID     json.RawMessage `json:"record_id"`
	ProviderName string          `json:"provider_name"`
	EventData    map[string]any  `json:"event_data"`
	UserData     map[string]any  `json:"user_data"`
	TimeCreated  string          `json:"time_created"`
}

func decodeWinlogbeat(top map[string]json.RawMessage, raw json.RawMessage) (Record, error) {
	var w winlog
	if err := json.Unmarshal(raw, &w); err != nil {
		return Record{}, fmt.Errorf("%w: winlog: %v", ErrMalformed, err)
	}
	r := Record{Channel: w.Channel, Computer: w.ComputerName, Provider: w.ProviderName}
	id, ok, err := intValue(w.EventID)
	if !ok && err == nil {
		// ECS event.code carries the id too.
		var e struct {
			Code json.RawMessage `json:"code"`
		}
		if ev, found := top["event"]; found && isObject(ev) && json.Unmarshal(ev, &e) == nil {
			id, ok, err = intValue(e.Code)
		}
	}
	if err != nil {
		return Record{}, fmt.Errorf("%w: event_id: %v", ErrMalformed, err)
	}
	if !ok {
		return Record{}, fmt.Errorf("%w: no event id", ErrMalformed)
	}
	r.EventID = id
	if r.RecordID, err = uintValue(w.RecordID); err != nil {
		return Record{}, fmt.Errorf("%w: record_id: %v", ErrMalformed, err)
	}
	if r.Computer == "" {
		var h struct {
			Name     string `json:"name"`
			Hostname string `json:"hostname"`
		}
		if hv, found := top["host"]; found && isObject(hv) && json.Unmarshal(hv, &h) == nil {
			r.Computer = cmp(h.Hostname, h.Name)
		}
	}
	r.Time = parseTime(stringValue(top["@timestamp"]))
	if r.Time.IsZero() {
		r.Time = parseTime(w.TimeCreated)
	}
	r.Data = make(map[string]string, len(w.EventData)+len(w.UserData)+3)
	addAny(r.Data, w.EventData)
	addAny(r.Data, w.UserData)
	return r, nil
}

func cmp(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// addAny copies scalar values into dst as strings; nested values are
// skipped.
func addAny(dst map[string]string, src map[string]any) {
	for k, v := range src {
		switch v := v.(type) {
		case string:
			dst[k] = v
		case float64:
			dst[k] = strconv.FormatFloat(v, 'f', -1, 64)
		case bool:
			dst[k] = strconv.FormatBool(v)
		}
	}
}

func decodeFlat(top map[string]json.RawMessage) (Record, error) {
	var r Record
	raw, ok := top["EventID"]
	if !ok {
		raw, ok = top["EventId"]
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
	r.Channel = stringValue(top["Channel"])
	r.Computer = stringValue(top["Hostname"])
	if r.Computer == "" {
		r.Computer = stringValue(top["Computer"])
	}
	r.Provider = cmp(stringValue(top["SourceName"]), stringValue(top["ProviderName"]))
	rec := top["RecordNumber"]
	if rec == nil {
		rec = top["EventRecordID"]
	}
	if r.RecordID, err = uintValue(rec); err != nil {
		return Record{}, fmt.Errorf("%w: RecordNumber: %v", ErrMalformed, err)
	}
	for _, k := range [...]string{"TimeCreated", "@timestamp", "EventTime"} {
		if r.Time = parseTime(stringValue(top[k])); !r.Time.IsZero() {
			break
		}
	}
	// NXLog renames a clashing EventData "EventType" after moving its own
	// to EventTypeOrignal; then EventType is EventData.
	_, renamed := top["EventTypeOrignal"]
	r.Data = make(map[string]string, len(top))
	for k, v := range top {
		if nxlogEnvelope[k] && !(renamed && k == "EventType") && !(k == "AccountName" && r.EventID == 7045) {
			continue
		}
		if s, ok := scalar(v); ok {
			r.Data[k] = s
		}
	}
	// Some shippers nest EventData / UserData as objects.
	for _, k := range [...]string{"EventData", "UserData"} {
		if v, ok := top[k]; ok && isObject(v) {
			var m map[string]json.RawMessage
			if json.Unmarshal(v, &m) == nil {
				for name, val := range m {
					if s, ok := scalar(val); ok {
						r.Data[name] = s
					}
				}
			}
		}
	}
	return r, nil
}

func isObject(raw json.RawMessage) bool { return len(raw) > 0 && raw[0] == '{' }

// scalar renders a JSON string, number or boolean as a string; null,
// objects and arrays report false.
func scalar(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 {
		return "", false
	}
	switch raw[0] {
	case '"':
		return unquote(raw), true
	case 't', 'f':
		return string(raw), true
	case 'n', '{', '[':
		return "", false
	}
	return string(raw), true // a number, as written
}

// stringValue is scalar without the ok.
func stringValue(raw json.RawMessage) string {
	s, _ := scalar(raw)
	return s
}

// unquote decodes a valid JSON string literal, avoiding the decoder for the
// common case without escapes.
func unquote(raw json.RawMessage) string {
	body := raw[1 : len(raw)-1]
	if bytes.IndexByte(body, '\\') < 0 && utf8.Valid(body) {
		return string(body)
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// intValue reads an event id given as a JSON number or string; ok is false
// when absent or empty.
func intValue(raw json.RawMessage) (int, bool, error) {
	s := strings.TrimSpace(stringValue(raw))
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
func uintValue(raw json.RawMessage) (uint64, error) {
	s := strings.TrimSpace(stringValue(raw))
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
