package sentinel

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/castellan-itdr/castellan/mappings/asim"
	"github.com/castellan-itdr/castellan/mappings/schema"
	"github.com/castellan-itdr/castellan/sinks/delivery"
	"github.com/castellan-itdr/castellan/sinks/sinktest/dcefake"
)

// End to end: response-action audit records take the path the pipeline and
// `castellan respond` give them — the sink's selection, Encode at enqueue,
// the durable queue, the sender, Push through azlogs — and land in the Logs
// Ingestion double as CastellanActions_CL rows with the right columns. One
// record is queued as schema JSON (queued before an upgrade, or a replayed
// dead letter) and must give the same row. min_severity does not drop
// actions, which are informational.
func TestActionsReachCastellanActionsTable(t *testing.T) {
	d := dcefake.New(dcefake.Options{})
	defer d.Close()
	cfg := testConfig(d)
	cfg.Select = delivery.Selection{Kinds: []string{schema.RecordAlert, schema.RecordAction}, MinSeverity: "medium"}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("a config taking actions must validate: %v", err)
	}
	at := time.Date(2026, 11, 28, 9, 30, 0, 123_000_000, time.FixedZone("CET", 3600))
	target := schema.User{Name: "alice", Domain: "CONTOSO", ID: "S-1-5-21-1-2-3-1104", UPN: "alice@contoso.com",
		LogonID: "0x3e7", Tags: []string{"sensitive"}}
	acts := []schema.Action{
		{ID: schema.ActionID("disable_user", target.Identity(), "kerberoasting", at), Timestamp: at, Type: "disable_user",
			Mode: "enforce", Trigger: "kerberoasting", IncidentID: "in-42", Target: target, Result: "succeeded",
			Before: `{"disabled":false,"userAccountControl":512}`, After: `{"disabled":true,"userAccountControl":514}`},
		{ID: "ac-dry", Timestamp: at.Add(time.Second), Type: "revoke_sessions", Mode: "dry_run", Trigger: "operator:jdoe",
			Target: schema.User{UPN: "bob@contoso.com", ID: "6f1c2d3e-0000-4000-8000-000000000001"}, Result: "simulated",
			Reason: "dry run"},
		{ID: "ac-refused", Timestamp: at.Add(2 * time.Second), Type: "disable_user", Mode: "enforce", Trigger: "operator:jdoe",
			Target: schema.User{Name: "krbtgt", Domain: "CONTOSO"}, Result: "refused", Reason: "krbtgt is protected"},
	}

	db, err := bolt.Open(filepath.Join(t.TempDir(), "state.db"), 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q, err := delivery.NewQueue(db, "sentinel")
	if err != nil {
		t.Fatal(err)
	}
	var items []delivery.Item
	for i, a := range acts {
		if !cfg.Select.Takes(a.RecordKind(), a.RecordSeverity()) {
			t.Fatalf("the selection drops action %s", a.ID)
		}
		it, err := Encode(a)
		if i == 2 {
			it, err = delivery.NewItem(a) // queued as schema JSON
		}
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, it)
	}
	if items[0].Format != Format || items[2].Format != delivery.FormatRecord {
		t.Fatalf("formats %q %q", items[0].Format, items[2].Format)
	}
	if err := q.Enqueue(items); err != nil {
		t.Fatal(err)
	}
	s := delivery.NewSender("sentinel", q, newSink(t, d, cfg, nil, nil),
		delivery.SenderConfig{MaxItems: 100, MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, PollInterval: 10 * time.Millisecond},
		slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	s.Start()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.Drain(ctx); err != nil {
		t.Fatalf("drain: %v (accepted %v)", err, d.Accepted())
	}
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if dl, err := q.DeadLetters(); err != nil || len(dl) != 0 {
		var reasons []string
		for _, l := range dl {
			reasons = append(reasons, l.Item.ID+": "+l.Reason)
		}
		t.Fatalf("dead letters %v (%v)", reasons, err)
	}

	for _, c := range d.Calls() {
		if c.Stream != asim.ActionsStream || c.Status != 204 {
			t.Errorf("call %+v: want 204 on %s", c, asim.ActionsStream)
		}
	}
	rows := d.Rows(asim.ActionsStream)
	if len(rows) != len(acts) {
		t.Fatalf("%d rows in %s, want %d", len(rows), asim.ActionsStream, len(acts))
	}
	want := []map[string]any{
		{
			"TimeGenerated": "2026-11-28T08:30:00.123Z", "EventId": acts[0].ID, "EventProduct": "Castellan", "EventVendor": "Castellan",
			"ActionType": "disable_user", "Mode": "enforce", "Trigger": "kerberoasting", "IncidentId": "in-42",
			"TargetUsername": `CONTOSO\alice`, "TargetUsernameType": "Windows", "TargetUserId": "S-1-5-21-1-2-3-1104",
			"TargetUserIdType": "SID", "TargetUserUpn": "alice@contoso.com", "Result": "succeeded", "EventResult": "Success",
			"Before": `{"disabled":false,"userAccountControl":512}`, "After": `{"disabled":true,"userAccountControl":514}`,
		},
		{
			"TimeGenerated": "2026-11-28T08:30:01.123Z", "EventId": "ac-dry", "EventProduct": "Castellan", "EventVendor": "Castellan",
			"ActionType": "revoke_sessions", "Mode": "dry_run", "Trigger": "operator:jdoe",
			"TargetUsername": "bob@contoso.com", "TargetUsernameType": "UPN", "TargetUserId": "6f1c2d3e-0000-4000-8000-000000000001",
			"TargetUserIdType": "AADID", "TargetUserUpn": "bob@contoso.com", "Result": "simulated", "EventResult": "NA", "Reason": "dry run",
		},
		{
			"TimeGenerated": "2026-11-28T08:30:02.123Z", "EventId": "ac-refused", "EventProduct": "Castellan", "EventVendor": "Castellan",
			"ActionType": "disable_user", "Mode": "enforce", "Trigger": "operator:jdoe",
			"TargetUsername": `CONTOSO\krbtgt`, "TargetUsernameType": "Windows", "Result": "refused", "EventResult": "Failure",
			"Reason": "krbtgt is protected",
		},
	}
	for i, raw := range rows {
		var got map[string]any
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want[i]) {
			t.Errorf("row %d has %d columns, want %d: %s", i, len(got), len(want[i]), raw)
		}
		for k, v := range want[i] {
			if got[k] != v {
				t.Errorf("row %d: %s = %v, want %v", i, k, got[k], v)
			}
		}
	}
	if ids := d.Accepted(); len(ids) != 3 || ids[0] != acts[0].ID || ids[1] != "ac-dry" || ids[2] != "ac-refused" {
		t.Errorf("accepted %v", ids)
	}
}

// The Logs Ingestion double holds action rows to the stream's declared
// schema, like every other stream: a column from another table, or a value
// of the wrong type, refuses the whole call.
func TestActionsStreamIsSchemaChecked(t *testing.T) {
	d := dcefake.New(dcefake.Options{})
	defer d.Close()
	s := newSink(t, d, nil, nil, nil)
	cfg := testConfig(d)
	for _, body := range []string{
		`{"EventId":"x","RuleId":"r"}`,                // an alert column
		`{"EventId":"x","ActionType":1}`,              // a number for a string
		`{"EventId":"x","TimeGenerated":"yesterday"}`, // not a datetime
	} {
		it := delivery.Item{Kind: schema.RecordAction, ID: "x", Format: Format, Body: []byte(body)}
		err := s.Push(context.Background(), []delivery.Item{it})
		if !delivery.IsPermanent(err) {
			t.Errorf("%s: want a permanent refusal, got %v", body, err)
		}
	}
	if n := len(d.Rows(cfg.Streams.Actions)); n != 0 {
		t.Errorf("%d malformed rows stored", n)
	}
}
