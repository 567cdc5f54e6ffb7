package rules

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/castellan-itdr/castellan/mappings/entra"
	"github.com/castellan-itdr/castellan/mappings/schema"
	"github.com/castellan-itdr/castellan/mappings/windows"
)

// eventRecordPrefix starts every normalized event line that `castellan replay
// --events` writes (schema.Event marshals "kind" first).
var eventRecordPrefix = []byte(`{"kind":"event"`)

// DecodeSample decodes one line of a rule sample. A line written by
// `castellan replay --events` (a normalized event record, as the network
// sensor's samples are: their source is a capture, not a JSON log) decodes
// as that event; an Entra ID record (a Graph signIn, directoryAudit,
// riskDetection or riskyUser, or an Event Hubs diagnostic record, see
// entra.FromAny) as the entra mapping reads it; any other line decodes as a
// Windows event in JSON.
func DecodeSample(line []byte) (schema.Event, error) {
	if bytes.HasPrefix(line, eventRecordPrefix) {
		var ev schema.Event
		if err := json.Unmarshal(line, &ev); err != nil {
			return schema.Event{}, fmt.Errorf("rules: event record: %w", err)
		}
		return ev, nil
	}
	if entra.LooksLikeRecord(line) {
		return entra.FromAny(line)
	}
	return windows.DecodeJSONEvent(line, "sample")
}
