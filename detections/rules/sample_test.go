package rules_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/detections/rules"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

func TestDecodeSampleEventRecord(t *testing.T) {
	in := schema.Event{ID: "x1", Timestamp: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC),
		Event:    schema.EventMeta{Kind: schema.KindKerberosTGT, Dataset: "netsensor", Outcome: "success"},
		User:     schema.User{Name: "alice", Domain: "LAB.TEST"},
		Source:   schema.Endpoint{IP: "10.0.0.5", Port: 50000},
		Auth:     schema.Auth{Kerberos: schema.Kerberos{PreauthType: "0"}},
		Original: map[string]string{"RequestedEtypes": "23"}}
	line, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := rules.DecodeSample(line)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != in.ID || !got.Timestamp.Equal(in.Timestamp) || got.Event != in.Event || got.User.Name != "alice" ||
		got.Source != in.Source || got.Auth.Kerberos.PreauthType != "0" || got.Original["RequestedEtypes"] != "23" {
		t.Errorf("decoded %+v, want %+v", got, in)
	}
	// A Windows event still decodes as one.
	win, err := rules.DecodeSample([]byte(`{"EventID":4768,"Channel":"Security","Hostname":"DC01","TargetUserName":"bob","Status":"0x0"}`))
	if err != nil || win.Event.Kind != schema.KindKerberosTGT || win.User.Name != "bob" {
		t.Errorf("windows line: %+v, %v", win, err)
	}
	if _, err := rules.DecodeSample([]byte(`{"kind":"event","@timestamp":"yesterday"}`)); err == nil {
		t.Error("bad event record decoded without error")
	}
}
