package splunk

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/mappings/schema"
	"github.com/castellan-itdr/castellan/sinks/delivery"
	"github.com/castellan-itdr/castellan/sinks/sinktest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func goldenRecords() map[string]schema.Record {
	ts := time.Date(2025, 1, 1, 9, 30, 15, 123456789, time.UTC)
	alice := schema.User{Name: "alice", Domain: "CONTOSO", ID: "S-1-5-21-1-2-3-1104"}
	items := map[string]schema.Record{
		"alert":    sinktest.Alerts(1)[0],
		"incident": sinktest.Incidents(1)[0],
	}
	add := func(name string, r schema.Record) { items[name] = r }
	add("event_auth", schema.Event{ID: "ev-4769", Timestamp: ts,
		Event:  schema.EventMeta{Kind: schema.KindKerberosServiceTicket, Code: "4769", Action: "service-ticket-requested", Outcome: schema.OutcomeSuccess, Dataset: "evtx"},
		Host:   schema.Host{Name: "dc01.contoso.local"},
		User:   alice,
		Source: schema.Endpoint{IP: "10.0.0.5", Port: 49722},
		Target: schema.Target{Service: "MSSQLSvc/sql01.contoso.local:1433"},
		Auth:   schema.Auth{Protocol: "kerberos", Kerberos: schema.Kerberos{Etype: "rc4-hmac"}}})
	add("event_change", schema.Event{ID: "ev-4728", Timestamp: ts,
		Event:  schema.EventMeta{Kind: schema.KindGroupMembershipChange, Code: "4728", Action: "member-added", Outcome: schema.OutcomeSuccess},
		Host:   schema.Host{Name: "dc01.contoso.local"},
		User:   alice,
		Target: schema.Target{User: schema.User{Name: "mallory", Domain: "CONTOSO"}, Group: schema.Group{Name: "Domain Admins", ID: "S-1-5-21-1-2-3-512"}}})
	add("finding", schema.Finding{ID: "f-1", Timestamp: ts, AssessmentID: "unconstrained-delegation", Title: "Unconstrained delegation on a server",
		Severity: schema.SeverityHigh, Status: "failed", Evidence: "userAccountControl has TRUSTED_FOR_DELEGATION", Entities: []string{"CN=SRV01,OU=Servers,DC=contoso,DC=local"}})
	add("action", schema.Action{ID: "act-1", Timestamp: ts, Type: "disable_user", Mode: "enforce", Trigger: "operator:jane", Target: alice, Result: "succeeded"})
	return items
}

// The golden HEC events, from records queued as schema JSON (decoded and
// mapped at push) and from records encoded at enqueue (framed at push):
// the same bytes either way.
func TestPayloadGolden(t *testing.T) {
	env := envelope{Index: "security", Source: "castellan", Host: "castellan-01", SourcetypePrefix: "castellan"}
	for name, rec := range goldenRecords() {
		t.Run(name, func(t *testing.T) {
			legacy, err := delivery.NewItem(rec)
			if err != nil {
				t.Fatal(err)
			}
			got, err := appendItem(nil, legacy, env)
			if err != nil {
				t.Fatal(err)
			}
			enc, err := Encode(rec)
			if err != nil {
				t.Fatal(err)
			}
			if enc.Format != Format || enc.ID != rec.RecordID() || enc.Kind != rec.RecordKind() {
				t.Fatalf("encoded item %+v", enc)
			}
			framed, err := appendItem(nil, enc, env)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(framed, got) {
				t.Errorf("encoded at enqueue:\n%s\nqueued as schema JSON:\n%s", framed, got)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, got, "", "  "); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, got)
			}
			pretty.WriteByte('\n')
			path := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if !bytes.Equal(pretty.Bytes(), want) {
				t.Errorf("%s differs from the golden (go test -update rewrites it):\n%s", path, pretty.Bytes())
			}
		})
	}
}

func TestPayloadShape(t *testing.T) {
	it := sinktest.Items(sinktest.Alerts(1)...)[0]
	line, err := appendEvent(nil, it, envelope{SourcetypePrefix: "castellan"})
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		Time       json.Number
		Sourcetype string
		Host       *string
		Index      *string
		Event      map[string]json.RawMessage
		Fields     map[string]string
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if err := dec.Decode(&ev); err != nil {
		t.Fatal(err)
	}
	if ev.Time.String() != "1735722000.000" || ev.Sourcetype != "castellan:alert" || ev.Host != nil || ev.Index != nil {
		t.Errorf("envelope: %+v", ev)
	}
	if ev.Fields["castellan_id"] != it.ID {
		t.Errorf("fields %v", ev.Fields)
	}
	// The record's keys stay; user (an object in the record) moves to
	// user_detail for the CIM user name.
	for _, k := range []string{"kind", "id", "rule", "threat", "message", "user_detail", "app", "signature", "mitre_technique_id"} {
		if _, ok := ev.Event[k]; !ok {
			t.Errorf("event lacks %q", k)
		}
	}
	if string(ev.Event["user"]) != `"CONTOSO\\user0000"` {
		t.Errorf("CIM user = %s", ev.Event["user"])
	}
	if _, err := appendEvent(nil, delivery.Item{Kind: "alert", ID: "x", Body: []byte(`[1]`)}, envelope{}); err == nil {
		t.Error("a non-object body must fail")
	}
	if _, err := appendEvent(nil, delivery.Item{Kind: "nope", ID: "x", Body: []byte(`{}`)}, envelope{}); err == nil {
		t.Error("an unknown kind must fail")
	}
	for _, bad := range []delivery.Item{
		{Kind: "alert", ID: "x", Format: Format, Body: []byte(`{"time":1`)},
		{Kind: "alert", ID: "x", Format: Format, Body: []byte(`{"fields":{}}`)},
		{Kind: "alert", ID: "x", Format: "ecs/1", Body: []byte(`{}`)},
	} {
		if _, err := appendItem(nil, bad, envelope{}); err == nil {
			t.Errorf("malformed or foreign item %s accepted", bad.Body)
		}
	}
	for ms, want := range map[int64]string{0: "0.000", 1: "0.001", 1735725600123: "1735725600.123", -1: "-1.999"} {
		if got := string(appendEpoch(nil, time.UnixMilli(ms))); got != want {
			t.Errorf("epoch(%d ms) = %s; want %s", ms, got, want)
		}
	}
}
