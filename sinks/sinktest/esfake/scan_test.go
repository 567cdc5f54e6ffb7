package esfake

import (
	"encoding/json"
	"testing"
)

// TestParseActionMatchesUnmarshal checks the action-line scanner against
// json.Unmarshal into map[string]action.
func TestParseActionMatchesUnmarshal(t *testing.T) {
	for _, line := range []string{
		`{"create":{"_index":"logs-x","_id":"a1"}}`,
		`{"index":{"_index":"i","_id":"b","op_type":"create","require_alias":true}}`,
		`{"create":{"_INDEX":"i","_Id":"\u0061b"}}`,
		`{"create":null}`,
		`{"create":{}}`,
		`{"delete":{"_id":"x"},"create":{}}`,
		`{"create":{"_id":"x"},"create":{"_index":"y"}}`,
		`{"create":{"_id":5}}`,
		`{"create":{"_id":null,"_index":"z"}}`,
		`{"create":[1]}`,
		`{"create":"s"}`,
		`{}`,
		`[]`,
		`null`,
		`{"create":{"_id":"x"}`,
		`{"create":{"_id":"x"}} junk`,
	} {
		var m map[string]action
		werr := json.Unmarshal([]byte(line), &m)
		name, a, gerr := parseAction([]byte(line))
		wantOK := werr == nil && len(m) == 1
		if wantOK != (gerr == nil) {
			t.Errorf("%s: unmarshal %v (len %d), scanner %v", line, werr, len(m), gerr)
			continue
		}
		if wantOK {
			for wn, wa := range m {
				if wn != name || wa != a {
					t.Errorf("%s: got %q %+v, want %q %+v", line, name, a, wn, wa)
				}
			}
		}
	}
}

// TestBulkResponseMatchesMarshal checks the response writer against
// json.Marshal.
func TestBulkResponseMatchesMarshal(t *testing.T) {
	seq := 3
	items := []bulkItem{
		{Index: "i", ID: "a", Version: 1, Result: "created", Shards: &shards{2, 1, 0}, SeqNo: &seq, PrimaryTerm: 1, Status: 201},
		{Index: "i<&>", ID: "é\"x", Status: 429, Error: &itemError{Type: "t", Reason: "r <x>"}},
		{Index: ".ds-x", ID: "b", Status: 400, Error: &itemError{Type: "t", Reason: "r", Index: "x", IndexUUID: "u", Shard: "0"}},
	}
	names := []string{"create", "index", "delete"}
	maps := make([]map[string]bulkItem, len(items))
	for i := range items {
		maps[i] = map[string]bulkItem{names[i]: items[i]}
	}
	want, _ := json.Marshal(struct {
		Errors bool                  `json:"errors"`
		Took   int64                 `json:"took"`
		Items  []map[string]bulkItem `json:"items"`
	}{true, 7, maps})
	if got := appendBulkResponse(nil, true, 7, names, items); string(got) != string(want) {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
