package engine

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

func logonFrom(user, ip string, at time.Duration) *schema.Event {
	return &schema.Event{
		ID:        fmt.Sprintf("l-%s-%s-%d", user, ip, at),
		Timestamp: t0.Add(at),
		Event:     schema.EventMeta{Kind: schema.KindLogon, Code: "4624", Outcome: "success"},
		Host:      schema.Host{Name: "DC01.corp.local"},
		User:      schema.User{Name: user, Domain: "CORP"},
		Source:    schema.Endpoint{IP: ip},
	}
}

func tgt(user string, at time.Duration) *schema.Event {
	return &schema.Event{
		ID:        fmt.Sprintf("tgt-%s-%d", user, at),
		Timestamp: t0.Add(at),
		Event:     schema.EventMeta{Kind: schema.KindKerberosTGT, Code: "4768", Outcome: "success"},
		User:      schema.User{Name: user, Domain: "CORP"},
		Source:    schema.Endpoint{IP: "10.0.5.66"},
	}
}

func seqEngine(t *testing.T, opts Options) *Engine {
	return engineOf(t, opts, mustParse(t, seqRule))
}

// spray is three failures for distinct users from ip, starting at at.
func spray(ip string, at time.Duration) []*schema.Event {
	return []*schema.Event{failure("u1", ip, at), failure("u2", ip, at+time.Minute), failure("u3", ip, at+2*time.Minute)}
}

func TestSequenceFires(t *testing.T) {
	e := seqEngine(t, Options{})
	evs := append(spray("10.0.0.9", 0), failure("u1", "10.0.0.9", 3*time.Minute))
	if a := collect(e, evs...); len(a) != 0 {
		t.Fatalf("fired before the success: %+v", a)
	}
	ok := logonFrom("u2", "10.0.0.9", 10*time.Minute)
	a := collect(e, ok)
	if len(a) != 1 {
		t.Fatalf("alerts = %d, want 1", len(a))
	}
	got := a[0]
	if got.Count != 4 || len(got.EventIDs) != 4 || got.EventIDs[3] != ok.ID || got.GroupKey["source.ip"] != "10.0.0.9" ||
		fmt.Sprint(got.Values) != "[u1 u2 u3]" || !got.FirstSeen.Equal(t0) || !got.LastSeen.Equal(t0.Add(10*time.Minute)) ||
		got.ID != schema.AlertID("test-rule", "10.0.0.9", got.EventIDs[0]) || got.Rule.Kind != KindSequence {
		t.Errorf("alert = %+v", got)
	}
	if got.Message != "Spray then success: source 10.0.0.9, spray (3 distinct user.name) then success within 30m0s" {
		t.Errorf("message %q", got.Message)
	}
	// One alert per completed sequence: the key reset.
	if a := collect(e, logonFrom("u2", "10.0.0.9", 11*time.Minute)); len(a) != 0 {
		t.Fatal("fired twice for one sequence")
	}
	if k := e.Stats().Rules[0].Keys; k != 0 {
		t.Errorf("keys after firing = %d", k)
	}
}

func TestSequenceNearMisses(t *testing.T) {
	cases := map[string][]*schema.Event{
		"success first": append([]*schema.Event{logonFrom("u1", "10.0.0.9", 0)}, spray("10.0.0.9", time.Minute)...),
		"two distinct":  {failure("u1", "10.0.0.9", 0), failure("u2", "10.0.0.9", 1), failure("U1", "10.0.0.9", 2), logonFrom("u1", "10.0.0.9", 3*time.Minute)},
		"other source":  append(spray("10.0.0.9", 0), logonFrom("u1", "10.0.0.8", 5*time.Minute)),
		"after window":  append(spray("10.0.0.9", 0), logonFrom("u1", "10.0.0.9", 31*time.Minute)),
		"excluded code": {failure("u1", "10.0.0.9", 0), failure("u2", "10.0.0.9", 1), func() *schema.Event {
			ev := failure("u3", "10.0.0.9", 2)
			ev.Auth.FailureCode = "0xC0000064"
			return ev
		}(), logonFrom("u1", "10.0.0.9", 3*time.Minute)},
		"failed logon is not success": append(spray("10.0.0.9", 0), func() *schema.Event {
			ev := logonFrom("u1", "10.0.0.9", 4*time.Minute)
			ev.Event.Outcome = "failure"
			return ev
		}()),
	}
	for name, evs := range cases {
		if a := collect(seqEngine(t, Options{}), evs...); len(a) != 0 {
			t.Errorf("%s: fired %+v", name, a)
		}
	}
}

func TestSequenceWindowRestart(t *testing.T) {
	e := seqEngine(t, Options{})
	// First spray at 0-2m expires; the spray at 25-27m is a fresh start
	// held while the success was awaited, so a success at 35m completes it.
	evs := append(spray("10.0.0.9", 0), spray("10.0.0.9", 25*time.Minute)...)
	evs = append(evs, logonFrom("u1", "10.0.0.9", 35*time.Minute))
	a := collect(e, evs...)
	if len(a) != 1 || !a[0].FirstSeen.Equal(t0.Add(25*time.Minute)) {
		t.Fatalf("alerts = %+v", a)
	}
	// A sequence whose first step slid out of the window does not fire.
	e = seqEngine(t, Options{})
	evs = []*schema.Event{failure("u1", "10.0.0.9", 0), failure("u2", "10.0.0.9", 20*time.Minute),
		failure("u3", "10.0.0.9", 31*time.Minute), logonFrom("u1", "10.0.0.9", 32*time.Minute)}
	if a := collect(e, evs...); len(a) != 0 {
		t.Fatalf("u1 at 0 counted 31 minutes later: %+v", a)
	}
}

func TestSequenceThreeStepsCount(t *testing.T) {
	src := strings.Replace(seqRule, "  - { name: success", "  - { name: tgt, where: { event.kind: kerberos_tgt }, count: 2 }\n  - { name: success", 1)
	e := engineOf(t, Options{}, mustParse(t, src))
	evs := append(spray("10.0.0.5", 0), logonFrom("u1", "10.0.0.5", 3*time.Minute)) // success before the TGTs: ignored
	t1, t2 := tgt("u1", 4*time.Minute), tgt("u1", 5*time.Minute)
	t1.Source.IP, t2.Source.IP = "10.0.0.5", "10.0.0.5"
	evs = append(evs, t1, t2)
	if a := collect(e, evs...); len(a) != 0 {
		t.Fatalf("fired early %+v", a)
	}
	if a := collect(e, logonFrom("u1", "10.0.0.5", 6*time.Minute)); len(a) != 1 || a[0].Count != 6 {
		t.Fatalf("alerts %+v", a)
	}
}

func nvEngine(t *testing.T, opts Options) *Engine {
	return engineOf(t, opts, mustParse(t, newValueRule))
}

const day = 24 * time.Hour

func TestNewValue(t *testing.T) {
	e := nvEngine(t, Options{})
	// Learning (first day): no alerts, values remembered.
	if a := collect(e, logonFrom("bob", "10.0.0.1", 0), logonFrom("bob", "10.0.0.2", time.Hour), logonFrom("alice", "10.0.0.1", 23*time.Hour)); len(a) != 0 {
		t.Fatalf("alerted while learning: %+v", a)
	}
	if a := collect(e, logonFrom("BOB", "10.0.0.2", 2*day), logonFrom("alice", "10.0.0.1", 2*day)); len(a) != 0 {
		t.Fatalf("alerted on known values: %+v", a)
	}
	ev := logonFrom("bob", "10.0.0.3", 2*day+time.Hour)
	a := collect(e, ev, logonFrom("bob", "10.0.0.3", 2*day+2*time.Hour))
	if len(a) != 1 {
		t.Fatalf("alerts = %d, want 1 (a new value alerts once)", len(a))
	}
	if a[0].ID != schema.AlertID("test-rule", "bob", ev.ID) || fmt.Sprint(a[0].Values) != "[10.0.0.3]" ||
		a[0].GroupKey["user.name"] != "bob" || a[0].Rule.Kind != KindNewValue {
		t.Errorf("alert %+v", a[0])
	}
	if a[0].Message != `Sign-in from a new address: user CORP\bob, new source.ip 10.0.0.3 (2 known values)` {
		t.Errorf("message %q", a[0].Message)
	}
	// Forgotten after 30 days unseen: alerts again. 10.0.0.2 was last seen at day 2.
	if a := collect(e, logonFrom("bob", "10.0.0.2", 32*day)); len(a) != 1 {
		t.Fatalf("forgotten value: alerts = %d", len(a))
	}
	// Seen again before forget: no alert (10.0.0.3 last seen at day 2 + 2h).
	if a := collect(e, logonFrom("bob", "10.0.0.3", 31*day)); len(a) != 0 {
		t.Fatalf("value inside forget alerted")
	}
	// Empty value is skipped and counted.
	collect(e, logonFrom("bob", "", 33*day))
	if s := e.Stats(); s.SkippedEmptyValue != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestNewValueCap(t *testing.T) {
	e := nvEngine(t, Options{})
	for i := 0; i < 10; i++ {
		collect(e, logonFrom("bob", fmt.Sprintf("10.0.0.%d", i), time.Duration(i)*time.Minute))
	}
	if s := e.Stats(); s.Evictions != 6 || s.Keys != 1 {
		t.Fatalf("stats = %+v", s)
	}
	x := e.evals[0].(*nvEval)
	k := x.keys.Get("bob").V
	if len(k.vals) != 4 {
		t.Fatalf("values held = %d, cap 4", len(k.vals))
	}
	for i := 6; i < 10; i++ {
		if _, ok := k.vals[fmt.Sprintf("10.0.0.%d", i)]; !ok {
			t.Errorf("newest value 10.0.0.%d evicted", i)
		}
	}
}

func mpEngine(t *testing.T, opts Options) *Engine {
	return engineOf(t, opts, mustParse(t, missingRule))
}

func TestMissingPredecessor(t *testing.T) {
	e := mpEngine(t, Options{})
	h := time.Hour
	var alerts []schema.Alert
	feed := func(evs ...*schema.Event) {
		alerts = append(alerts, collect(e, evs...)...)
	}
	// Learning: a fresh start has seen no TGTs, nothing is judged for 10h.
	feed(tgs("dave", "svc", 0), tgt("dave", 30*time.Minute), tgs("erin", "svc", 9*h))
	feed(tgt("alice", 10*h+50*time.Minute))
	feed(tgs("alice", "svc", 11*h), tgs("bob", "svc", 11*h), tgs("dave", "svc", 11*h))
	feed(tgs("carol", "svc", 12*h), tgt("carol", 12*h+2*time.Minute)) // TGT late, inside grace
	feed(tgs("bob", "svc", 11*h+30*time.Minute))                      // suppressed: one alert per key per within
	feed(tgt("frank", 12*h+10*time.Minute))                           // moves event time past every grace
	if s := e.Stats(); s.Rules[0].Learning != 2 {
		t.Errorf("learning = %d, want 2", s.Rules[0].Learning)
	}
	var users []string
	for _, a := range alerts {
		users = append(users, a.User.Name)
	}
	// bob never had a TGT, dave's is older than 10h.
	if fmt.Sprint(users) != "[bob dave]" {
		t.Fatalf("alerted for %v", users)
	}
	a := alerts[0]
	if a.ID != schema.AlertID("test-rule", "bob", tgs("bob", "svc", 11*h).ID) || a.GroupKey["user.name"] != "bob" ||
		a.Target.Service != "svc" || !a.Timestamp.Equal(t0.Add(11*h)) || a.Host.Name != "DC01.corp.local" {
		t.Errorf("alert %+v", a)
	}
	if a.Message != `Service ticket without a TGT: user CORP\bob, no predecessor within 10h0m0s` {
		t.Errorf("message %q", a.Message)
	}
	// After within has passed, bob alerts again; Flush judges the buffered event.
	alerts = nil
	feed(tgs("bob", "svc", 21*h+time.Minute))
	if len(alerts) != 0 || e.Stats().Pending != 1 {
		t.Fatalf("judged before grace: %v, pending %d", alerts, e.Stats().Pending)
	}
	e.Flush(func(a schema.Alert) { alerts = append(alerts, a) })
	if len(alerts) != 1 || e.Stats().Pending != 0 {
		t.Fatalf("flush: %d alerts", len(alerts))
	}
}

func TestMissingPredecessorJoinKey(t *testing.T) {
	src := strings.Replace(missingRule, "key: [user.name]", "key: { event: [target.user.name], predecessor: [user.name] }", 1)
	src = strings.Replace(src, "learning: 10h", "learning: 1m", 1)
	e := engineOf(t, Options{}, mustParse(t, src))
	svcFor := func(user string, at time.Duration) *schema.Event {
		ev := tgs("requester", "svc", at)
		ev.ID += user
		ev.Target.User = schema.User{Name: user}
		return ev
	}
	a := collect(e, tgt("x", 0), tgt("alice", time.Hour), svcFor("alice", 2*time.Hour), svcFor("bob", 2*time.Hour), tgt("x", 3*time.Hour))
	if len(a) != 1 || a[0].GroupKey["target.user.name"] != "bob" {
		t.Fatalf("alerts %+v", a)
	}
}

// mixedStream spans days: sprays and successes, logons from rotating
// addresses, TGTs and service tickets with gaps.
func mixedStream() []*schema.Event {
	var evs []*schema.Event
	for i := 0; i < 3000; i++ {
		at := time.Duration(i) * 97 * time.Second
		ip := fmt.Sprintf("10.0.0.%d", i%2)
		u := fmt.Sprintf("u%d", i%13)
		switch i % 6 {
		case 0, 1:
			evs = append(evs, failure(u, ip, at))
		case 2:
			if (i/6)%4 == 0 {
				evs = append(evs, logonFrom(u, ip, at))
			} else {
				evs = append(evs, logonFrom(fmt.Sprintf("u%d", i%5), fmt.Sprintf("10.1.0.%d", (i/40)%9), at))
			}
		case 3:
			if i%4 != 3 {
				evs = append(evs, tgt(fmt.Sprintf("u%d", i%11), at))
			}
		default:
			evs = append(evs, tgs(fmt.Sprintf("u%d", i%17), "svc", at))
		}
	}
	return evs
}

func newKindRules(t *testing.T) []*Rule {
	seq := mustParse(t, seqRule)
	seq.ID = "k-seq"
	nv := mustParse(t, strings.Replace(newValueRule, "max_values: 4", "max_values: 3", 1))
	nv.ID = "k-nv"
	mp := mustParse(t, strings.Replace(missingRule, "within: 10h", "within: 3h", 1))
	mp.ID = "k-mp"
	return append(testRules(t), seq, nv, mp)
}

func TestNewKindsSnapshotRestore(t *testing.T) {
	evs := mixedStream()
	run := func(e *Engine, from int, evs []*schema.Event, out *[]string) {
		for i, ev := range evs {
			e.Process(ev, func(a schema.Alert) { *out = append(*out, fmt.Sprintf("%d:%s:%s", from+i, a.Rule.ID, a.ID)) })
		}
	}
	var want []string
	e := engineOf(t, Options{MaxKeysPerRule: 50}, newKindRules(t)...)
	run(e, 0, evs, &want)
	per := map[string]int{}
	for _, w := range want {
		per[strings.Split(w, ":")[1]]++
	}
	for _, id := range []string{"k-seq", "k-nv", "k-mp"} {
		if per[id] == 0 {
			t.Fatalf("rule %s never fired in the stream: %v", id, per)
		}
	}
	for _, cut := range []int{1, len(evs) / 3, len(evs)/2 + 1, len(evs) - 1} {
		var got []string
		e1 := engineOf(t, Options{MaxKeysPerRule: 50}, newKindRules(t)...)
		run(e1, 0, evs[:cut], &got)
		snap, err := e1.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		e2 := engineOf(t, Options{MaxKeysPerRule: 50}, newKindRules(t)...)
		if err := e2.Restore(snap); err != nil {
			t.Fatal(err)
		}
		if snap2, _ := e2.Snapshot(); string(snap2) != string(snap) {
			t.Fatalf("cut %d: snapshot not stable across restore", cut)
		}
		run(e2, cut, evs[cut:], &got)
		if !slices.Equal(got, want) {
			t.Errorf("cut %d: restored run differs\n got %d alerts\nwant %d", cut, len(got), len(want))
		}
	}
	// Determinism: the same input gives the same alerts and ids.
	var again []string
	run(engineOf(t, Options{MaxKeysPerRule: 50}, newKindRules(t)...), 0, evs, &again)
	if !slices.Equal(again, want) {
		t.Fatal("same input gave different alerts")
	}
}

// TestBoundedMemory pushes a million distinct keys through every stateful
// kind and checks that no rule ever holds more than the cap.
func TestBoundedMemory(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 50_000
	}
	const maxKeys = 1000
	rules := newKindRules(t)
	e := engineOf(t, Options{MaxKeysPerRule: maxKeys}, rules...)
	ev := &schema.Event{}
	emit := func(schema.Alert) {}
	for i := 0; i < n; i++ {
		at := time.Duration(i) * time.Millisecond
		u, ip := fmt.Sprintf("user%07d", i), fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
		switch i % 4 {
		case 0:
			*ev = *failure(u, ip, at)
		case 1:
			*ev = *logonFrom(u, ip, at)
		case 2:
			*ev = *tgs(u, "svc", at)
		default:
			*ev = *tgt(u, at)
		}
		e.Process(ev, emit)
		if i%97 == 0 || i == n-1 {
			for _, rs := range e.Stats().Rules {
				if rs.Keys > maxKeys || rs.Pending > maxKeys {
					t.Fatalf("event %d: rule %s holds %d keys, %d pending; cap %d", i, rs.Rule, rs.Keys, rs.Pending, maxKeys)
				}
			}
		}
	}
	s := e.Stats()
	for _, rs := range s.Rules {
		if rs.Rule == "d-match" {
			continue
		}
		if rs.Evictions == 0 {
			t.Errorf("rule %s: no evictions counted after %d distinct keys: %+v", rs.Rule, n, rs)
		}
	}
}
