package schema

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// Record kinds: the top-level "kind" of every JSON record Castellan writes.
const (
	RecordEvent    = "event"
	RecordAlert    = "alert"
	RecordIncident = "incident"
	RecordFinding  = "finding"
	RecordAction   = "action"
)

// Record is anything a sink can deliver.
type Record interface {
	// RecordKind is one of the Record* constants.
	RecordKind() string
	// RecordID is the record's stable id.
	RecordID() string
	// RecordSeverity is the record's severity; events are informational.
	RecordSeverity() Severity
}

func (e Event) RecordKind() string          { return RecordEvent }
func (e Event) RecordID() string            { return e.ID }
func (e Event) RecordSeverity() Severity    { return SeverityInformational }
func (a Alert) RecordKind() string          { return RecordAlert }
func (a Alert) RecordID() string            { return a.ID }
func (a Alert) RecordSeverity() Severity    { return a.Severity }
func (i Incident) RecordKind() string       { return RecordIncident }
func (i Incident) RecordID() string         { return i.ID }
func (i Incident) RecordSeverity() Severity { return i.Severity }
func (f Finding) RecordKind() string        { return RecordFinding }
func (f Finding) RecordID() string          { return f.ID }
func (f Finding) RecordSeverity() Severity  { return f.Severity }
func (a Action) RecordKind() string         { return RecordAction }
func (a Action) RecordID() string           { return a.ID }
func (a Action) RecordSeverity() Severity   { return SeverityInformational }

// StableID derives a record id from its identity parts: a hex SHA-256 prefix
// of the parts joined with a separator that cannot occur in them ambiguously.
// The same parts always give the same id.
func StableID(parts ...string) string {
	h := sha256.New()
	for i, p := range parts {
		if i > 0 {
			h.Write([]byte{0})
		}
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// EventID is the stable id of an event: its source (dataset + host + channel)
// and its record identity within that source.
func EventID(dataset, host, channel, recordIdentity string) string {
	return StableID("event", dataset, strings.ToLower(host), strings.ToLower(channel), recordIdentity)
}

// marshalKind writes v as a JSON object whose first key is "kind".
func marshalKind(kind string, v any) ([]byte, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if len(body) < 2 || body[0] != '{' {
		return nil, fmt.Errorf("schema: %s did not marshal to an object", kind)
	}
	var b bytes.Buffer
	b.Grow(len(body) + len(kind) + 12)
	b.WriteString(`{"kind":"`)
	b.WriteString(kind)
	b.WriteByte('"')
	if len(body) > 2 {
		b.WriteByte(',')
	}
	b.Write(body[1:])
	return b.Bytes(), nil
}
