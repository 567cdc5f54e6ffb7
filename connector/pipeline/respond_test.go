package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/connector/component"
	"github.com/castellan-itdr/castellan/connector/config"
	"github.com/castellan-itdr/castellan/connector/respond"
	"github.com/castellan-itdr/castellan/connector/sources/entra/entraauth"
	"github.com/castellan-itdr/castellan/detections/engine"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// fakeAD is a directory double: accounts by SID with an enabled flag.
type fakeAD struct{ enabled map[string]bool }

func (d *fakeAD) Name() string { return "ad" }

func (d *fakeAD) Resolve(_ context.Context, id string) (respond.Subject, error) {
	if _, ok := d.enabled[id]; !ok {
		return respond.Subject{}, errors.New("no such account")
	}
	return respond.Subject{Directory: "ad", Key: id, User: schema.User{ID: id, Name: "alice", Domain: "LAB"}, Aliases: []string{id}}, nil
}

func (d *fakeAD) Actions() []respond.Action { return []respond.Action{fakeDisable{d}} }

type fakeDisable struct{ d *fakeAD }

func (fakeDisable) Name() string { return respond.DisableUser }

func (a fakeDisable) Run(_ context.Context, s respond.Subject, _ map[string][]string, apply bool) (respond.Change, error) {
	if !a.d.enabled[s.Key] {
		return respond.Change{Before: `{"enabled":false}`, After: `{"enabled":false}`, Note: "account already disabled"}, nil
	}
	if apply {
		a.d.enabled[s.Key] = false
	}
	return respond.Change{Before: `{"enabled":true}`, After: `{"enabled":false}`, Changed: true, Note: "account disabled", Undo: &respond.Undo{Action: respond.EnableUser}}, nil
}

const respondRule = `id: test-respond
title: Test rule with a response
status: test
severity: high
mitre: { tactic: TA0006, technique: T1110.003 }
description: Any failed logon (test).
kind: match
where: { event.kind: logon_failure }
response: { mode: enforce, actions: [disable_user] }
`

// runRespondPipeline commits one batch with an event the rule fires on
// and returns the file sink's records and the directory.
func runRespondPipeline(t *testing.T, globalMode string) ([]map[string]any, *fakeAD) {
	t.Helper()
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules")
	if err := os.MkdirAll(rules, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rules, "test-respond.yml"), []byte(respondRule), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.jsonl")
	cfgText := fmt.Sprintf(`state: { path: %[1]s/state.db }
detections: { rules: [%[1]s/rules], sigma: [] }
sinks:
  file/out: { path: %[2]s, kinds: [alert, incident, action] }
response: { mode: %[3]s }
`, dir, out, globalMode)
	cfg, err := config.Parse([]byte(cfgText), "c.yaml", Registry())
	if err != nil {
		t.Fatal(err)
	}
	ad := &fakeAD{enabled: map[string]bool{"S-1-5-21-1-2-3-1104": true}}
	r := respond.New(respond.Options{Directories: []respond.Directory{ad}})
	p, err := New(cfg, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Responder: r})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	ev := schema.Event{ID: "e1", Timestamp: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC),
		Event: schema.EventMeta{Kind: schema.KindLogonFailure, Outcome: "failure"},
		User:  schema.User{Name: "alice", Domain: "LAB", ID: "S-1-5-21-1-2-3-1104"}}
	ev2 := ev // the rule fires twice on alice in one batch: her actions run once
	ev2.ID, ev2.Timestamp = "e2", ev.Timestamp.Add(time.Second)
	if err := p.consume(ctx, "test", component.Batch{Events: []schema.Event{ev, ev2}}, false); err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := p.Shutdown(sctx); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var recs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		recs = append(recs, m)
	}
	return recs, ad
}

// A firing rule's response runs with the alert's incident and its record
// reaches the sink with the alert; enforce needs both keys.
func TestRuleResponseRunsWhenTheRuleFires(t *testing.T) {
	for _, tc := range []struct {
		global, mode, result, reason string
		enabledAfter                 bool
	}{
		{"dry_run", "dry_run", "simulated", "dry run: would change: account disabled (the rule asks for enforce; response.mode is dry_run)", true},
		{"enforce", "enforce", "succeeded", "account disabled", false},
	} {
		t.Run(tc.global, func(t *testing.T) {
			recs, ad := runRespondPipeline(t, tc.global)
			var alert, incident, action map[string]any
			actions := 0
			for _, r := range recs {
				switch r["kind"] {
				case "alert":
					alert = r
				case "incident":
					incident = r
				case "action":
					action = r
					actions++
				}
			}
			if alert == nil || incident == nil || actions != 1 {
				t.Fatalf("records %v: want alerts, an incident and exactly one action", recs)
			}
			t.Logf("action record: %v", action)
			if action["type"] != "disable_user" || action["mode"] != tc.mode || action["result"] != tc.result ||
				action["reason"] != tc.reason || action["trigger"] != "test-respond" || action["incident_id"] != incident["id"] {
				t.Errorf("action %v; incident id %v", action, incident["id"])
			}
			if tgt, _ := action["target"].(map[string]any); tgt["id"] != "S-1-5-21-1-2-3-1104" {
				t.Errorf("target %v", action["target"])
			}
			if ad.enabled["S-1-5-21-1-2-3-1104"] != tc.enabledAfter {
				t.Errorf("account enabled = %v, want %v", ad.enabled["S-1-5-21-1-2-3-1104"], tc.enabledAfter)
			}
		})
	}
}

func TestAlertIdentity(t *testing.T) {
	for _, tc := range []struct {
		u       schema.User
		id, dir string
	}{
		{schema.User{ID: "S-1-5-21-1-2-3-1104", Name: "alice", Domain: "LAB"}, "S-1-5-21-1-2-3-1104", "ad"},
		{schema.User{ID: "6f1a0c2e-0b7e-4a55-9a52-0d5a2c6e0a01", UPN: "ann@contoso.com"}, "6f1a0c2e-0b7e-4a55-9a52-0d5a2c6e0a01", "entra"},
		{schema.User{Name: "bob", Domain: "LAB"}, `LAB\bob`, "ad"},
		{schema.User{UPN: "ann@contoso.com"}, "ann@contoso.com", ""},
	} {
		if id, dir := alertIdentity(tc.u); id != tc.id || dir != tc.dir {
			t.Errorf("%+v → %q %q, want %q %q", tc.u, id, dir, tc.id, tc.dir)
		}
	}
}

// BenchmarkResponseNote is the hook's cost per emitted record when some
// rule has a response block but the record is not one of its alerts
// (the common case), and on a pipeline without response blocks (nil).
func BenchmarkResponseNote(b *testing.B) {
	h := &alertResponse{rules: map[string]*engine.RuleResponse{"r": {Mode: "dry_run", Actions: []string{"disable_user"}}}, incidents: map[string]string{}}
	alert := schema.Alert{ID: "a", Rule: schema.RuleRef{ID: "other"}}
	b.Run("other-rule", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			h.note(alert)
			h.run(context.Background())
		}
	})
	b.Run("nil", func(b *testing.B) {
		var none *alertResponse
		b.ReportAllocs()
		for b.Loop() {
			none.note(alert)
			none.run(context.Background())
		}
	})
}

// Every action a rule may name is one the configured directories offer.
func TestRuleActionsAreOffered(t *testing.T) {
	r, err := NewResponder(config.Response{
		AD:      &config.ResponseAD{URL: "ldaps://127.0.0.1:1", Bind: "x", Password: "y", BaseDN: "DC=x"},
		Entra:   &config.ResponseEntra{TenantID: "t", ClientID: "c", Auth: entraauth.Auth{ClientSecret: "s"}, GraphURL: "http://127.0.0.1:1/v1.0"},
		Journal: filepath.Join(t.TempDir(), "j.db"),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range engine.ResponseActions {
		if !r.Offers(a) {
			t.Errorf("rules may name %s but no directory offers it", a)
		}
	}
}
