package engine

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func ruleWith(t *testing.T, kindBlock, where string) *Rule {
	t.Helper()
	src := strings.Replace(baseRule, "kind: match\nwhere:\n  event.kind: kerberos_service_ticket\n", kindBlock+"\n"+where, 1)
	return mustParse(t, src)
}

func engineOf(t *testing.T, opts Options, rules ...*Rule) *Engine {
	t.Helper()
	e, err := New(rules, opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func collect(e *Engine, evs ...*schema.Event) []schema.Alert {
	var out []schema.Alert
	for _, ev := range evs {
		e.Process(ev, func(a schema.Alert) { out = append(out, a) })
	}
	return out
}

// tgs is an RC4 service ticket request by user for service at offset.
func tgs(user, service string, at time.Duration) *schema.Event {
	return &schema.Event{
		ID:        fmt.Sprintf("ev-%s-%s-%d", user, service, at),
		Timestamp: t0.Add(at),
		Event:     schema.EventMeta{Kind: schema.KindKerberosServiceTicket, Code: "4769", Outcome: "success"},
		Host:      schema.Host{Name: "DC01.corp.local"},
		User:      schema.User{Name: user, Domain: "CORP"},
		Source:    schema.Endpoint{IP: "10.0.5.66"},
		Target:    schema.Target{Service: service},
		Auth:      schema.Auth{Protocol: "kerberos", Kerberos: schema.Kerberos{Etype: "rc4-hmac"}},
	}
}

func failure(user, ip string, at time.Duration) *schema.Event {
	return &schema.Event{
		ID:        fmt.Sprintf("f-%s-%s-%d", user, ip, at),
		Timestamp: t0.Add(at),
		Event:     schema.EventMeta{Kind: schema.KindLogonFailure, Code: "4625", Outcome: "failure"},
		User:      schema.User{Name: user, Domain: "CORP"},
		Source:    schema.Endpoint{IP: ip},
		Auth:      schema.Auth{FailureCode: "0xc000006a"},
	}
}

func TestModifiers(t *testing.T) {
	ev := tgs("JDoe", "MSSQLSvc/sql01.corp.local:1433", 0)
	ev.Original = map[string]string{"TicketOptions": "0x40810000"}
	cases := []struct {
		where string
		want  bool
	}{
		{"user.name: jdoe", true},
		{"user.name: JDOE", true},
		{"user.name: jdo", false},
		{"user.name: [alice, jdoe]", true},
		{"user.name: [alice, bob]", false},
		{"target.service|contains: SQL01", true},
		{"target.service|contains: [nope, corp.LOCAL]", true},
		{"target.service|contains: sql02", false},
		{"target.service|startswith: mssqlsvc/", true},
		{"target.service|startswith: sql", false},
		{"target.service|endswith: :1433", true},
		{"target.service|endswith: :1434", false},
		{`target.service|re: '^mssqlsvc/[a-z0-9]+\.corp\.local:\d+$'`, true},
		{"target.service|re: ['^http/', 'sql0[2-9]']", false},
		{"target.service|exists: true", true},
		{"target.service|exists: false", false},
		{"directory.properties|exists: false", true},
		{"target.is_machine: false", true},
		{"target.is_machine: true", false},
		{"user.is_dc: false", true},
		{"original.TicketOptions: 0x40810000", true},
		{"original.Missing|exists: false", true},
		{"auth.kerberos.etype: RC4-HMAC", true},
	}
	for _, tc := range cases {
		r := ruleWith(t, "kind: match", "where:\n  "+tc.where+"\n")
		if got := r.matches(ev); got != tc.want {
			t.Errorf("%s: matches = %v, want %v", tc.where, got, tc.want)
		}
	}
	// not: excluded only when every entry holds.
	r := ruleWith(t, "kind: match", "where:\n  event.kind: kerberos_service_ticket\nnot:\n  user.name: jdoe\n  target.service|startswith: krbtgt\n")
	if !r.matches(ev) {
		t.Error("not with one failing entry must not exclude")
	}
	r = ruleWith(t, "kind: match", "where:\n  event.kind: kerberos_service_ticket\nnot:\n  user.name: jdoe\n  target.service|startswith: mssql\n")
	if r.matches(ev) {
		t.Error("not with all entries holding must exclude")
	}
}

func TestMatchAlert(t *testing.T) {
	r := mustParse(t, baseRule)
	e := engineOf(t, Options{}, r)
	ev := tgs("jdoe", "svc-sql", 0)
	alerts := collect(e, ev, &schema.Event{ID: "other", Event: schema.EventMeta{Kind: schema.KindLogon}})
	if len(alerts) != 1 {
		t.Fatalf("got %d alerts", len(alerts))
	}
	a := alerts[0]
	if a.ID != schema.AlertID("test-rule", "", ev.ID) || a.Count != 1 || a.EventIDs[0] != ev.ID ||
		a.Severity != schema.SeverityHigh || a.RiskScore != 73 || a.Threat.Framework != schema.FrameworkATTACK ||
		a.Threat.Technique.ID != "T1558.003" || a.Threat.Tactic.Name != "Credential Access" ||
		a.User.Name != "jdoe" || a.Target.Service != "svc-sql" || !a.Timestamp.Equal(t0) {
		t.Errorf("alert = %+v", a)
	}
	if a.Message != `Test rule: user CORP\jdoe from 10.0.5.66 on DC01.corp.local (event 4769)` {
		t.Errorf("message = %q", a.Message)
	}
	if s := e.Stats(); s.Events != 2 || s.Evaluated != 1 || s.Matched != 1 || s.Alerts != 1 {
		t.Errorf("stats = %+v", s)
	}
}

const countKind = "kind: threshold\ngroup_by: [user.name]\nthreshold: 3\nwindow: 10m"
const failWhere = "where:\n  event.kind: logon_failure\n  event.outcome: failure\n"

func TestThresholdExactlyAtN(t *testing.T) {
	e := engineOf(t, Options{}, ruleWith(t, countKind, failWhere))
	if a := collect(e, failure("bob", "10.0.0.1", 0), failure("bob", "10.0.0.1", time.Minute)); len(a) != 0 {
		t.Fatalf("fired at N-1: %+v", a)
	}
	a := collect(e, failure("bob", "10.0.0.1", 2*time.Minute))
	if len(a) != 1 {
		t.Fatalf("did not fire at N")
	}
	if a[0].Count != 3 || len(a[0].EventIDs) != 3 || !a[0].FirstSeen.Equal(t0) || !a[0].LastSeen.Equal(t0.Add(2*time.Minute)) ||
		a[0].GroupKey["user.name"] != "bob" || a[0].ID != schema.AlertID("test-rule", "bob", failure("bob", "10.0.0.1", 0).ID) {
		t.Errorf("alert = %+v", a[0])
	}
	if a[0].Message != `Test rule: user CORP\bob, 3 events in 10m0s` {
		t.Errorf("message %q", a[0].Message)
	}
	// Other users are separate keys.
	if a := collect(e, failure("alice", "10.0.0.1", 3*time.Minute)); len(a) != 0 {
		t.Fatal("alice fired")
	}
}

func TestThresholdSlidingWindow(t *testing.T) {
	e := engineOf(t, Options{}, ruleWith(t, countKind, failWhere))
	// 0, 6m, 10m: the first has left the window (10m - 0 = window) at the third.
	if a := collect(e, failure("bob", "", 0), failure("bob", "", 6*time.Minute), failure("bob", "", 10*time.Minute)); len(a) != 0 {
		t.Fatalf("fired across the window: %d", len(a))
	}
	// 6m, 10m, 15m59s are within 10 minutes.
	if a := collect(e, failure("bob", "", 15*time.Minute+59*time.Second)); len(a) != 1 {
		t.Fatal("did not fire inside the window")
	}
}

func TestSuppressionAndRearm(t *testing.T) {
	e := engineOf(t, Options{}, ruleWith(t, countKind, failWhere))
	var got []int
	for i := 0; i < 40; i++ {
		at := time.Duration(i) * time.Minute
		if len(collect(e, failure("bob", "", at))) > 0 {
			got = append(got, i)
		}
	}
	// Fires at minute 2, suppressed until 12; events from 3..11 keep
	// counting in the window, so it fires again at 12, then at 22 and 32.
	want := []int{2, 12, 22, 32}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("fired at minutes %v, want %v", got, want)
	}
	// A quiet key re-arms and needs a full count again.
	e = engineOf(t, Options{}, ruleWith(t, countKind, failWhere))
	n := 0
	for _, at := range []time.Duration{0, 1, 2, 11, 30, 31, 32} {
		n += len(collect(e, failure("bob", "", at*time.Minute)))
	}
	if n != 2 {
		t.Fatalf("alerts = %d, want 2", n)
	}
}

func TestDistinctCounting(t *testing.T) {
	r := ruleWith(t, "kind: distinct\ngroup_by: [user.name]\ndistinct: target.service\nthreshold: 5\nwindow: 10m",
		"where:\n  event.kind: kerberos_service_ticket\n  auth.kerberos.etype: rc4-hmac\nnot:\n  target.service|startswith: krbtgt\n")
	e := engineOf(t, Options{}, r)
	var evs []*schema.Event
	for i, svc := range []string{"svc-a", "svc-b", "SVC-A", "svc-b", "svc-c", "krbtgt", "krbtgt/CORP", "svc-d", "svc-a"} {
		evs = append(evs, tgs("jdoe", svc, time.Duration(i)*time.Second))
	}
	if a := collect(e, evs...); len(a) != 0 {
		t.Fatalf("fired with 4 distinct services: %+v", a)
	}
	a := collect(e, tgs("jdoe", "svc-e", 30*time.Second))
	if len(a) != 1 {
		t.Fatal("did not fire on 5th distinct service")
	}
	if fmt.Sprint(a[0].Values) != "[svc-a svc-b svc-c svc-d svc-e]" || a[0].Count != 5 || len(a[0].EventIDs) != 5 {
		t.Errorf("alert = %+v", a[0])
	}
	if a[0].Message != `Test rule: user CORP\jdoe, 5 distinct target.service in 10m0s` {
		t.Errorf("message %q", a[0].Message)
	}
	// Distinct values expire with the window.
	e = engineOf(t, Options{}, r)
	n := 0
	for i := 0; i < 12; i++ {
		n += len(collect(e, tgs("jdoe", fmt.Sprintf("svc-%d", i), time.Duration(i)*3*time.Minute)))
	}
	if n != 0 {
		t.Fatalf("fired although at most 4 services fall in any 10m window: %d", n)
	}
}

func TestEmptyKeySkipped(t *testing.T) {
	r := ruleWith(t, "kind: distinct\ngroup_by: [source.ip]\ndistinct: user.name\nthreshold: 2\nwindow: 10m", failWhere)
	e := engineOf(t, Options{}, r)
	a := collect(e, failure("a", "", 0), failure("b", "", 1), failure("", "10.0.0.9", 2), failure("c", "10.0.0.9", 3))
	if len(a) != 0 {
		t.Fatalf("alerts %+v", a)
	}
	s := e.Stats()
	if s.SkippedEmptyKey != 2 || s.SkippedEmptyValue != 1 || s.Keys != 1 {
		t.Errorf("stats = %+v", s)
	}
	if a := collect(e, failure("d", "10.0.0.9", 4)); len(a) != 1 || a[0].GroupKey["source.ip"] != "10.0.0.9" {
		t.Fatalf("alerts %+v", a)
	}
}

func TestEviction(t *testing.T) {
	e := engineOf(t, Options{MaxKeysPerRule: 3}, ruleWith(t, countKind, failWhere))
	// bob twice, then three other users: bob is the oldest-updated key and is evicted.
	collect(e, failure("bob", "", 0), failure("bob", "", 1), failure("u1", "", 2), failure("u2", "", 3))
	collect(e, failure("u1", "", 4)) // update order now: bob, u2, u1
	collect(e, failure("u3", "", 5))
	s := e.Stats()
	if s.Evictions != 1 || s.Keys != 3 {
		t.Fatalf("stats = %+v", s)
	}
	if a := collect(e, failure("bob", "", 6)); len(a) != 0 {
		t.Fatal("evicted key kept its count")
	}
	// bob re-entered and evicted u2; u1 keeps its two events.
	if a := collect(e, failure("u1", "", 7)); len(a) != 1 {
		t.Fatal("u1 lost its state")
	}
	if s := e.Stats(); s.Evictions != 2 {
		t.Fatalf("evictions = %d", s.Evictions)
	}
}

func TestSweepDropsStaleKeys(t *testing.T) {
	e := engineOf(t, Options{}, ruleWith(t, countKind, failWhere))
	for i := 0; i < 100; i++ {
		collect(e, failure(fmt.Sprintf("u%d", i), "", time.Duration(i)*time.Second))
	}
	if k := e.Stats().Keys; k != 100 {
		t.Fatalf("keys = %d", k)
	}
	collect(e, failure("late", "", time.Hour))
	if k := e.Stats().Keys; k != 1 {
		t.Fatalf("keys after sweep = %d", k)
	}
}

// stream is a deterministic mixed sequence for the snapshot and determinism tests.
func stream() []*schema.Event {
	var evs []*schema.Event
	for i := 0; i < 300; i++ {
		at := time.Duration(i) * 7 * time.Second
		switch i % 3 {
		case 0:
			evs = append(evs, tgs(fmt.Sprintf("u%d", i%4), fmt.Sprintf("svc-%d", i%11), at))
		default:
			evs = append(evs, failure(fmt.Sprintf("u%d", i%5), fmt.Sprintf("10.0.0.%d", i%2), at))
		}
	}
	return evs
}

func testRules(t *testing.T) []*Rule {
	distinct := ruleWith(t, "kind: distinct\ngroup_by: [user.name]\ndistinct: target.service\nthreshold: 5\nwindow: 10m",
		"where:\n  event.kind: kerberos_service_ticket\n")
	distinct.ID = "a-distinct"
	count := ruleWith(t, countKind, failWhere)
	count.ID = "b-count"
	spray := ruleWith(t, "kind: threshold\ngroup_by: [source.ip]\ndistinct: user.name\nthreshold: 4\nwindow: 5m", failWhere)
	spray.ID = "c-spray"
	match := mustParse(t, baseRule)
	match.ID = "d-match"
	return []*Rule{distinct, count, spray, match}
}

func runAll(t *testing.T, e *Engine, evs []*schema.Event) []string {
	var out []string
	for i, ev := range evs {
		e.Process(ev, func(a schema.Alert) { out = append(out, fmt.Sprintf("%d:%s:%s", i, a.Rule.ID, a.ID)) })
	}
	return out
}

func TestSnapshotRestore(t *testing.T) {
	evs := stream()
	want := runAll(t, engineOf(t, Options{}, testRules(t)...), evs)
	if len(want) < 10 {
		t.Fatalf("stream too quiet: %v", want)
	}
	for _, cut := range []int{1, 50, 151, 299} {
		e1 := engineOf(t, Options{}, testRules(t)...)
		var got []string
		for i, ev := range evs[:cut] {
			e1.Process(ev, func(a schema.Alert) { got = append(got, fmt.Sprintf("%d:%s:%s", i, a.Rule.ID, a.ID)) })
		}
		snap, err := e1.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		e2 := engineOf(t, Options{}, testRules(t)...)
		if err := e2.Restore(snap); err != nil {
			t.Fatal(err)
		}
		snap2, _ := e2.Snapshot()
		if string(snap) != string(snap2) {
			t.Fatalf("cut %d: snapshot not stable across restore", cut)
		}
		for i, ev := range evs[cut:] {
			e2.Process(ev, func(a schema.Alert) { got = append(got, fmt.Sprintf("%d:%s:%s", cut+i, a.Rule.ID, a.ID)) })
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("cut %d:\n got %v\nwant %v", cut, got, want)
		}
	}
}

func TestRestoreTolerance(t *testing.T) {
	rules := testRules(t)
	e := engineOf(t, Options{}, rules...)
	runAll(t, e, stream()[:100])
	snap, _ := e.Snapshot()
	// Fewer rules, and one rule changed: unknown rules ignored, changed ones start empty.
	changed := ruleWith(t, "kind: threshold\ngroup_by: [user.name]\nthreshold: 7\nwindow: 10m", failWhere)
	changed.ID = "b-count"
	e2 := engineOf(t, Options{}, rules[0], changed)
	if err := e2.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if s := e2.Stats(); s.Rules[0].Keys == 0 || s.Rules[1].Keys != 0 {
		t.Errorf("stats = %+v", s.Rules)
	}
	if err := e2.Restore([]byte("{")); err == nil {
		t.Error("bad snapshot accepted")
	}
}

func TestDeterminism(t *testing.T) {
	a := runAll(t, engineOf(t, Options{}, testRules(t)...), stream())
	b := runAll(t, engineOf(t, Options{}, testRules(t)...), stream())
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatal("same input gave different alerts")
	}
}

func TestRuleOrderAndKindIndex(t *testing.T) {
	rules := testRules(t)
	unkinded := ruleWith(t, "kind: match", "where:\n  user.name: u0\n")
	unkinded.ID = "0-any"
	e := engineOf(t, Options{}, append([]*Rule{unkinded}, rules...)...)
	var ids []string
	e.Process(tgs("u0", "svc", 0), func(a schema.Alert) { ids = append(ids, a.Rule.ID) })
	if fmt.Sprint(ids) != "[0-any d-match]" {
		t.Errorf("alerts in order %v", ids)
	}
	// A logon event is evaluated only by the unconstrained rule.
	e.Process(&schema.Event{Event: schema.EventMeta{Kind: schema.KindLogon}, User: schema.User{Name: "x"}}, func(schema.Alert) {})
	if s := e.Stats(); s.Rules[0].Evaluated != 2 || s.Rules[4].Evaluated != 1 || s.Rules[2].Evaluated != 0 {
		t.Errorf("evaluated = %+v", s.Rules)
	}
}

func TestNoAllocsOnNonMatching(t *testing.T) {
	rules := testRules(t)
	re := ruleWith(t, "kind: match", "where:\n  event.kind: kerberos_service_ticket\n  target.service|re: '^zz'\n  user.name|contains: [x, y]\n")
	re.ID = "e-re"
	e := engineOf(t, Options{}, append(rules, re)...)
	ev := tgs("jdoe", "svc", 0)
	ev.Auth.Kerberos.Etype = "aes256-cts-hmac-sha1-96"
	ev.Event.Kind = schema.KindLogon
	emit := func(schema.Alert) {}
	if n := testing.AllocsPerRun(100, func() { e.Process(ev, emit) }); n != 0 {
		t.Errorf("allocs on a logon event = %v", n)
	}
	ev.Event.Kind = schema.KindKerberosServiceTicket
	ev.User.Name = "abc"
	r := ruleWith(t, "kind: match", "where:\n  event.kind: kerberos_service_ticket\n  target.service|re: '^zz'\n")
	e = engineOf(t, Options{}, r, re)
	if n := testing.AllocsPerRun(100, func() { e.Process(ev, emit) }); n != 0 {
		t.Errorf("allocs on non-matching rules = %v", n)
	}
}

func TestPerKeyStateBounded(t *testing.T) {
	d := ruleWith(t, "kind: distinct\ngroup_by: [user.name]\ndistinct: target.service\nthreshold: 2\nwindow: 1h",
		"where:\n  event.kind: kerberos_service_ticket\n")
	c := ruleWith(t, "kind: threshold\ngroup_by: [user.name]\nthreshold: 3\nwindow: 1h", "where:\n  event.kind: kerberos_service_ticket\n")
	c.ID = "count-rule"
	e := engineOf(t, Options{}, d, c)
	n := 0
	for i := 0; i < 500; i++ {
		n += len(collect(e, tgs("jdoe", fmt.Sprintf("svc-%d", i), time.Duration(i)*time.Second)))
	}
	// Each rule fires once, then stays suppressed for the hour.
	if n != 2 {
		t.Fatalf("alerts = %d", n)
	}
	if k := e.evals[0].(*thresholdEval).st.keys.Get("jdoe").V; len(k.vals) > 64 {
		t.Errorf("distinct values held = %d, cap 64", len(k.vals))
	}
	if k := e.evals[1].(*thresholdEval).st.keys.Get("jdoe").V; len(k.ring) > 3 {
		t.Errorf("timestamps held = %d, cap 3", len(k.ring))
	}
}
