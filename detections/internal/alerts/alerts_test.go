package alerts

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// TestMatchMessage: a match alert carries one event as evidence and a
// message built from the parts the event has.
func TestMatchMessage(t *testing.T) {
	ts := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ev := &schema.Event{ID: "e1", Timestamp: ts}
	ev.Source.Hostname = "WS01"
	ev.Host.Name = "DC01"
	ev.Event.Code = "4769"
	var a schema.Alert
	Match(&a, "r1", "Title", ev)
	if a.Message != "Title: from WS01 on DC01 (event 4769)" {
		t.Errorf("message = %q", a.Message)
	}
	if a.Count != 1 || !slices.Equal(a.EventIDs, []string{"e1"}) || !a.FirstSeen.Equal(ts) || !a.LastSeen.Equal(ts) || a.ID != schema.AlertID("r1", "", "e1") {
		t.Errorf("alert = %+v", a)
	}
	var bare schema.Alert
	Match(&bare, "r1", "Title", &schema.Event{ID: "e2"})
	if bare.Message != "Title" {
		t.Errorf("bare message = %q, want the title alone", bare.Message)
	}
}

// TestNewCopiesTags: the alert's user tags are its own.
func TestNewCopiesTags(t *testing.T) {
	ev := &schema.Event{}
	ev.User.Tags = []string{"admin"}
	ev.Target.User.Tags = []string{"tier0"}
	a := New(schema.RuleRef{ID: "r"}, schema.SeverityHigh, schema.Tactic{ID: "TA0006"}, schema.Technique{}, ev)
	ev.User.Tags[0], ev.Target.User.Tags[0] = "x", "y"
	if a.User.Tags[0] != "admin" || a.Target.User.Tags[0] != "tier0" || a.Threat.Tactic.ID != "TA0006" || a.Threat.Framework != schema.FrameworkATTACK || a.RiskScore != schema.SeverityHigh.RiskScore() {
		t.Errorf("alert = %+v", a)
	}
}

// TestWindowCaps: evidence ids and values are capped, times span the
// evidence, and the group key maps group_by fields to values.
func TestWindowCaps(t *testing.T) {
	n := schema.MaxEvidence + 5
	var a schema.Alert
	values := make([]string, MaxValues+3)
	Window(&a, "r", "k", n, func(i int) (int64, string) { return int64(1000 - i), fmt.Sprint("e", i) },
		values, []string{"user.name"}, []string{"JDoe"})
	if a.Count != n || len(a.EventIDs) != schema.MaxEvidence || len(a.Values) != MaxValues {
		t.Fatalf("count %d ids %d values %d", a.Count, len(a.EventIDs), len(a.Values))
	}
	if a.FirstSeen.UnixNano() != int64(1000-n+1) || a.LastSeen.UnixNano() != 1000 || !a.Timestamp.Equal(a.LastSeen) {
		t.Errorf("first %d last %d", a.FirstSeen.UnixNano(), a.LastSeen.UnixNano())
	}
	if a.ID != schema.AlertID("r", "k", "e0") || a.GroupKey["user.name"] != "JDoe" {
		t.Errorf("id %q group %v", a.ID, a.GroupKey)
	}
}
