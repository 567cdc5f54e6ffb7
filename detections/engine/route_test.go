package engine

import (
	"fmt"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// routedRules are rules of every index: event.kind, event.code,
// event.action, a sequence whose steps pin codes, and an unconstrained one,
// interleaved so alert order tests the merge.
func routedRules(t *testing.T) []*Rule {
	t.Helper()
	mk := func(id, kind, where string) *Rule {
		r := ruleWith(t, kind, where)
		r.ID = id
		return r
	}
	return []*Rule{
		mk("a-code", "kind: match", "where:\n  event.code: ['4720', '4726']\n"),
		mk("b-kind", "kind: match", "where:\n  event.kind: account_change\n"),
		mk("c-action", "kind: match", "where:\n  event.action: User-Created\n"),
		mk("d-free", "kind: match", "where:\n  user.name|contains: u\n"),
		mk("e-code-threshold", "kind: threshold\ngroup_by: [user.name]\nthreshold: 2\nwindow: 1h", "where:\n  event.code: '4720'\n"),
		mk("f-seq", "kind: sequence\ngroup_by: [target.user.name]\nwindow: 1h\nsteps:\n  - where: { event.code: '4720' }\n  - where: { event.code: '4726' }", ""),
	}
}

func acct(code, action, user, target string, at time.Duration) *schema.Event {
	return &schema.Event{
		ID:        fmt.Sprintf("%s-%s-%d", code, target, at),
		Timestamp: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC).Add(at),
		Event:     schema.EventMeta{Kind: schema.KindAccountChange, Code: code, Action: action},
		User:      schema.User{Name: user},
		Target:    schema.Target{User: schema.User{Name: target}},
	}
}

// TestRoutesKeepAlertsAndOrder checks that routing rules by event.code and
// event.action changes nothing but which rules are evaluated: each event
// gets the alerts, in rule order, that evaluating every rule gives.
func TestRoutesKeepAlertsAndOrder(t *testing.T) {
	e := engineOf(t, Options{}, routedRules(t)...)
	if len(e.routes) != 2 || fmt.Sprint(e.free) != "[3]" {
		t.Fatalf("routes = %d, free = %v", len(e.routes), e.free)
	}
	cases := []struct {
		ev   *schema.Event
		want string
	}{
		{acct("4720", "user-created", "u1", "x", 0), "[a-code b-kind c-action d-free]"},
		{acct("4720", "USER-CREATED", "u1", "x", time.Minute), "[a-code b-kind c-action d-free e-code-threshold]"},
		{acct("4726", "user-deleted", "admin", "x", 2*time.Minute), "[a-code b-kind f-seq]"},
		{acct("4738", "user-changed", "u2", "y", 3*time.Minute), "[b-kind d-free]"},
		// Values whose case folding is not byte-wise still reach the rule.
		{acct("4720", "\u212Aser-created", "v", "y", 4*time.Minute), "[a-code b-kind]"},
		{acct("4720", "U\u017Fer-created", "v", "y", 5*time.Minute), "[a-code b-kind c-action e-code-threshold]"},
		{acct("", "", "v", "z", 6*time.Minute), "[b-kind]"},
	}
	// all evaluates every rule on every event, bypassing the indexes.
	all := engineOf(t, Options{}, routedRules(t)...)
	for i, c := range cases {
		var ids, ref []string
		e.Process(c.ev, func(a schema.Alert) { ids = append(ids, a.Rule.ID) })
		for r := range all.rules {
			all.evaluate(r, c.ev, func(a schema.Alert) { ref = append(ref, a.Rule.ID) })
		}
		if got := fmt.Sprint(ids); got != c.want || got != fmt.Sprint(ref) {
			t.Errorf("event %d (%s %q): alerts %s, want %s (every rule evaluated: %v)", i, c.ev.Event.Code, c.ev.Event.Action, got, c.want, ref)
		}
	}
	// Only rules a route admits were evaluated: 4738 reaches no code rule.
	s := e.Stats()
	if got := s.Rules[0].Evaluated; got != 5 {
		t.Errorf("a-code evaluated %d times, want 5 (the 4720/4726 events)", got)
	}
	if got := s.Rules[3].Evaluated; got != 7 {
		t.Errorf("d-free evaluated %d times, want every event (7)", got)
	}
}

// TestRouteValues covers which rules are routed, and on what.
func TestRouteValues(t *testing.T) {
	cases := []struct {
		kind, where, path string
		want              string
	}{
		{"kind: match", "where:\n  event.code: '4720'\n", "event.code", "[4720]"},
		{"kind: match", "where:\n  event.code|startswith: '47'\n", "event.code", "[]"},
		{"kind: match", "where:\n  event.action: [A, b]\n", "event.action", "[a b]"},
		// A non-ASCII needle may match other spellings: not routed.
		{"kind: match", "where:\n  event.action: [a, \"\u017F\"]\n", "event.action", "[]"},
		{"kind: sequence\ngroup_by: [user.name]\nwindow: 1h\nsteps:\n  - where: { event.code: '1' }\n  - where: { user.name: x }", "", "event.code", "[]"},
		{"kind: sequence\ngroup_by: [user.name]\nwindow: 1h\nsteps:\n  - where: { event.code: '1' }\n  - where: { event.code: ['2', '1'] }", "", "event.code", "[1 2]"},
	}
	for _, c := range cases {
		r := ruleWith(t, c.kind, c.where)
		if got := fmt.Sprint(routeValues(r, c.path)); got != c.want {
			t.Errorf("%s %s: route %s, want %s", c.kind, c.where, got, c.want)
		}
	}
}

// TestRouteLookup checks lookup against lower-casing with the standard
// library for the values a map lookup settles.
func TestRouteLookup(t *testing.T) {
	rt := route{by: map[string][]int{"4720": {1}, "user-created": {2}}, all: []int{1, 2}}
	cases := map[string]string{
		"4720": "[1]", "user-created": "[2]", "USER-Created": "[2]", "4721": "[]",
		"\u212Aser": "[1 2]", string(make([]byte, 80)): "[1 2]",
	}
	for v, want := range cases {
		if got := fmt.Sprint(rt.lookup(v)); got != want {
			t.Errorf("lookup(%q) = %s, want %s", v, got, want)
		}
	}
}
