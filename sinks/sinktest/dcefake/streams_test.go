package dcefake

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/mappings/asim"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// The default double serves every table's stream of mappings/asim, each
// with its own declared columns: a row carrying a column of another table
// is refused, so a sink writing a record to the wrong stream fails here as
// it would against the service.
func TestServesEveryCastellanStream(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	tables := asim.Tables()
	for i, tb := range tables {
		path := "/dataCollectionRules/" + RuleID + "/streams/" + tb.Stream
		id := "id-" + tb.Name
		ok := `[{"TimeGenerated":"2025-01-01T10:00:00Z","EventId":"` + id + `"}]`
		if status, _, body := do(t, s, req{path: path, body: []byte(ok)}); status != 204 {
			t.Errorf("%s: %d %s", tb.Stream, status, body)
		}
		if rows := s.Rows(tb.Stream); len(rows) != 1 || !strings.Contains(string(rows[0]), id) {
			t.Errorf("%s: rows %s", tb.Stream, rows)
		}
		// A column only another table declares.
		foreign := ""
		for _, c := range tables[(i+1)%len(tables)].Columns {
			if !declares(tb, c.Name) {
				foreign = c.Name
				break
			}
		}
		if foreign == "" {
			t.Fatalf("%s declares every column of %s", tb.Name, tables[(i+1)%len(tables)].Name)
		}
		bad := `[{"EventId":"x","` + foreign + `":null}]`
		status, h, body := do(t, s, req{path: path, body: []byte(bad)})
		if status != 400 || errCode(t, h, body) != "InvalidPayload" || !strings.Contains(body, foreign) {
			t.Errorf("%s with %s: %d %s", tb.Stream, foreign, status, body)
		}
	}
}

func declares(tb asim.Table, col string) bool {
	for _, c := range tb.Columns {
		if c.Name == col {
			return true
		}
	}
	return false
}

// Action rows as asim.FromAction writes them are accepted on
// Custom-CastellanActions and stored as sent; values of the wrong type are
// refused and nothing of the call is stored.
func TestActionsStream(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	path := "/dataCollectionRules/" + RuleID + "/streams/" + asim.ActionsStream
	a := schema.Action{ID: "ac-1", Timestamp: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC), Type: "disable_user", Mode: "enforce",
		Trigger: "operator:jdoe", IncidentID: "in-1", Target: schema.User{Name: "alice", Domain: "CONTOSO", ID: "S-1-5-21-1-2-3-1104",
			UPN: "alice@contoso.com"}, Result: "succeeded", Reason: "containment", Before: `{"disabled":false}`, After: `{"disabled":true}`}
	row, err := json.Marshal(asim.FromAction(&a))
	if err != nil {
		t.Fatal(err)
	}
	if status, _, body := do(t, s, req{path: path, body: gz(t, "["+string(row)+"]"), encoding: "gzip"}); status != 204 {
		t.Fatalf("full action row: %d %s", status, body)
	}
	for _, bad := range []string{
		`{"EventId":"b1","ActionType":1}`,
		`{"EventId":"b2","TargetUserId":["S-1-5-21-1"]}`,
		`{"EventId":"b3","TimeGenerated":"yesterday"}`,
		`{"EventId":"b4","RiskScore":3}`, // a findings column
	} {
		if status, h, body := do(t, s, req{path: path, body: []byte("[" + bad + "]")}); status != 400 || errCode(t, h, body) != "InvalidPayload" {
			t.Errorf("%s: %d %s", bad, status, body)
		}
	}
	rows := s.Rows(asim.ActionsStream)
	if len(rows) != 1 || string(rows[0]) != string(row) {
		t.Errorf("stored %s, want %s", rows, row)
	}
	if got := strings.Join(s.Accepted(), ","); got != "ac-1" {
		t.Errorf("accepted %q", got)
	}
}
