package engine

import (
	"fmt"
	"testing"
	"time"
)

// TestReusedKeyStartsEmpty checks that keys removed by a sweep are kept
// (boundedly) for reuse with nothing carried over, and that a rule works
// the same on reused keys: a user firing before the sweep needs the full
// threshold again after it.
func TestReusedKeyStartsEmpty(t *testing.T) {
	d := ruleWith(t, "kind: distinct\ngroup_by: [user.name]\ndistinct: target.service\nthreshold: 3\nwindow: 10m",
		"where:\n  event.kind: kerberos_service_ticket\n")
	e := engineOf(t, Options{}, d)
	st := e.evals[0].(*thresholdEval).st
	n := 0
	for u := 0; u < 100; u++ {
		user := fmt.Sprintf("User%d", u)
		n += len(collect(e, tgs(user, "svc-a", 0), tgs(user, "svc-b", time.Second), tgs(user, "svc-c", 2*time.Second)))
	}
	if n != 100 {
		t.Fatalf("alerts = %d, want one per user", n)
	}
	// An hour later the first event sweeps every key.
	if a := collect(e, tgs("USER7", "svc-a", time.Hour)); len(a) != 0 {
		t.Fatalf("alerts = %+v", a)
	}
	if spare := st.keys.Spare(); len(spare) != maxSpareKeys-1 || st.keys.Len() != 1 {
		t.Fatalf("spare = %d, keys = %d; want %d and 1", len(spare), st.keys.Len(), maxSpareKeys-1)
	}
	for _, n := range st.keys.Spare() {
		k := n.V
		if n.Key != "" || n.Next() != nil || k.group != nil || len(k.vals) != 0 || len(k.ring) != 0 || k.suppressed != 0 || k.last != 0 {
			t.Fatalf("spare key not reset: %+v", n)
		}
	}
	kn := st.keys.Get("user7")
	if kn == nil {
		t.Fatal("key user7 missing")
	}
	k := &kn.V
	if len(k.vals) != 1 || k.group[0] != "USER7" {
		t.Fatalf("key user7 = %+v, want one value, group as last seen", k)
	}
	if a := collect(e, tgs("user7", "svc-b", time.Hour+time.Second)); len(a) != 0 {
		t.Fatalf("fired after 2 values: %+v", a)
	}
	if k.group[0] != "user7" {
		t.Errorf("group = %v, want the latest spelling", k.group)
	}
	if a := collect(e, tgs("User7", "svc-c", time.Hour+2*time.Second)); len(a) != 1 || a[0].Count != 3 {
		t.Fatalf("alerts = %+v, want one with 3 values", a)
	}
}

// TestPendingFIFOReusesItsBuffer: events held by a missing_predecessor
// rule leave in order, and a steady flow reuses one buffer instead of
// reallocating as the window moves.
func TestPendingFIFOReusesItsBuffer(t *testing.T) {
	x := &mpEval{}
	next, want := int64(0), int64(0)
	pop := func() {
		if got := x.pending[0].t; got != want {
			t.Fatalf("popped %d, want %d", got, want)
		}
		x.pending[0] = pendingEv{}
		x.pending = x.pending[1:]
		want++
	}
	// Three stay held across rounds, so the window keeps moving.
	for i := 0; i < 3; i++ {
		x.push(pendingEv{t: next})
		next++
	}
	for round := 0; round < 1000; round++ {
		for i := 0; i < 7; i++ {
			x.push(pendingEv{t: next})
			next++
		}
		for i := 0; i < 7; i++ {
			pop()
		}
		if len(x.pending) != 3 {
			t.Fatalf("round %d: %d held, want 3", round, len(x.pending))
		}
	}
	if c := cap(x.buf); c > 64 {
		t.Errorf("buffer grew to %d for at most 10 held events", c)
	}
	if n := testing.AllocsPerRun(100, func() {
		x.push(pendingEv{t: next})
		next++
		pop()
	}); n != 0 {
		t.Errorf("allocs per held event = %v", n)
	}
}
