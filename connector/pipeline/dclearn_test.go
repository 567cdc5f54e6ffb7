package pipeline

import (
	"slices"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

var dcT0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// dcEvent is a Security log event logged by host.
func dcEvent(id, code string, kind schema.EventKind, host string, at time.Duration) schema.Event {
	return schema.Event{ID: id, Timestamp: dcT0.Add(at),
		Event: schema.EventMeta{Kind: kind, Code: code, Provider: "Microsoft-Windows-Security-Auditing", Channel: "Security",
			Dataset: "evtx", Outcome: schema.OutcomeSuccess},
		Host: schema.Host{Name: host}}
}

// With no DC configured, the processor learns a DC from its first KDC
// event: a TGT for an account named like it (noPac) alerts, and the
// learned DC survives a restart through the snapshot (a service installed
// on it then alerts before any DC-only event).
func TestProcessorLearnsDCs(t *testing.T) {
	p := newIdentityProcessor(t)
	tgt := dcEvent("t1", "4768", schema.KindKerberosTGT, "RootDC7.corp.example", 0)
	tgt.User = schema.User{Name: "rootdc7", Domain: "CORP"}
	tgt.Target.Service = "krbtgt"
	rules, _ := incidentsOf(t, p, []schema.Event{tgt})
	if !slices.Contains(rules, "samaccountname-spoofing-dc-lookalike-tgt") {
		t.Fatalf("noPac TGT on a learned DC: alerts %v", rules)
	}
	if st := p.DCStats(); st.Learned != 1 || st.Held != 1 {
		t.Fatalf("DC stats %+v", st)
	}
	snap, err := p.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	svc := dcEvent("s1", "7045", schema.KindServiceInstall, "rootdc7.corp.example", time.Minute)
	svc.Event.Provider, svc.Event.Channel = "Service Control Manager", "System"
	svc.User = schema.User{Name: "LocalSystem"}
	svc.Service = schema.Service{Name: "BackupAgent", File: `C:\Program Files\Backup\agent.exe`}
	for _, restore := range []bool{true, false} {
		q := newIdentityProcessor(t)
		if restore {
			if err := q.Restore(snap); err != nil {
				t.Fatal(err)
			}
		}
		rules, _ := incidentsOf(t, q, []schema.Event{svc})
		if got := slices.Contains(rules, "service-installed-on-dc"); got != restore {
			t.Errorf("restored=%v: alerts %v", restore, rules)
		}
	}
}
