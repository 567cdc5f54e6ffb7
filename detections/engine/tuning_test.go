package engine

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

func TestTuningExclusions(t *testing.T) {
	svc := failure("svc-backup", "10.0.0.1", 0)
	svc.User.UPN = "svc-backup@corp.example"
	admin := failure("admin", "10.20.30.40", 0)
	admin.Target.User = schema.User{Name: "victim", Domain: "CORP"}
	ws := failure("jdoe", "192.168.1.5", 0)
	ws.Source.Hostname = "WS-0042.corp.example"
	dc := failure("jdoe", "::ffff:10.9.9.9", 0)
	dc.Host.Name = "DC02"
	cases := []struct {
		rt   RuleTuning
		ev   *schema.Event
		want bool
	}{
		{RuleTuning{ExcludeAccounts: []string{"SVC-BACKUP"}}, svc, true},
		{RuleTuning{ExcludeAccounts: []string{`corp\svc-backup`}}, svc, true},
		{RuleTuning{ExcludeAccounts: []string{`corp.example\svc-backup`}}, svc, true},
		{RuleTuning{ExcludeAccounts: []string{`OTHER\svc-backup`}}, svc, false},
		{RuleTuning{ExcludeAccounts: []string{"svc-backup@corp.example"}}, svc, true},
		{RuleTuning{ExcludeAccounts: []string{"svc-backup@other.example"}}, svc, false},
		{RuleTuning{ExcludeAccounts: []string{"svc-*"}}, svc, true},
		{RuleTuning{ExcludeAccounts: []string{`corp\*-backup`}}, svc, true},
		{RuleTuning{ExcludeAccounts: []string{"svc"}}, svc, false},
		{RuleTuning{ExcludeAccounts: []string{"victim"}}, admin, true}, // target.user.name
		{RuleTuning{ExcludeIPs: []string{"10.20.0.0/16"}}, admin, true},
		{RuleTuning{ExcludeIPs: []string{"10.21.0.0/16", "10.20.30.41"}}, admin, false},
		{RuleTuning{ExcludeIPs: []string{"10.20.30.40"}}, admin, true},
		{RuleTuning{ExcludeIPs: []string{"10.9.9.0/24"}}, dc, true}, // v4-mapped v6
		{RuleTuning{ExcludeHosts: []string{"ws-0042"}}, ws, true},
		{RuleTuning{ExcludeHosts: []string{"WS-0042.corp.example"}}, ws, true},
		{RuleTuning{ExcludeHosts: []string{"ws-0042.other.example"}}, ws, false},
		{RuleTuning{ExcludeHosts: []string{"ws-*"}}, ws, true},
		{RuleTuning{ExcludeHosts: []string{"*.corp.example"}}, ws, true},
		{RuleTuning{ExcludeHosts: []string{"dc02.corp.example"}}, dc, true}, // host.name short
		{RuleTuning{ExcludeHosts: []string{"dc0"}}, dc, false},
	}
	for i, tc := range cases {
		tune, err := compileTune(tc.rt)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if got := tune.excludes(tc.ev); got != tc.want {
			t.Errorf("%d %+v on %s: excludes = %v, want %v", i, tc.rt, tc.ev.ID, got, tc.want)
		}
	}
}

func TestGlob(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		want bool
	}{
		{"a*", "abc", true}, {"*c", "abc", true}, {"a*c", "ac", true}, {"a*b*c", "axbyc", true},
		{"a*b*c", "acb", false}, {"*", "", true}, {"ab", "abc", false}, {"a*a", "a", false}, {"*$", "dc01$", true},
	} {
		if got := glob(tc.p, tc.s); got != tc.want {
			t.Errorf("glob(%q, %q) = %v", tc.p, tc.s, got)
		}
	}
}

// sprayFrom is n failures for distinct users from ip, one a second.
func sprayFrom(ip string, n int, at time.Duration) []*schema.Event {
	var evs []*schema.Event
	for i := 0; i < n; i++ {
		evs = append(evs, failure(fmt.Sprintf("user%d", i), ip, at+time.Duration(i)*time.Second))
	}
	return evs
}

func sprayRule(t *testing.T) *Rule {
	r := ruleWith(t, "kind: distinct\ngroup_by: [source.ip]\ndistinct: user.name\nthreshold: 5\nwindow: 10m", failWhere)
	r.ID = "spray"
	return r
}

func TestTuningExcludedEventsDoNotCount(t *testing.T) {
	r := sprayRule(t)
	tun := Tuning{Rules: map[string]RuleTuning{"spray": {ExcludeAccounts: []string{"user0", "user1"}}}}
	e := engineOf(t, Options{Tuning: tun}, r)
	// user0 and user1 are excluded: 4 counted distinct users, no alert.
	if a := collect(e, sprayFrom("10.0.0.1", 6, 0)...); len(a) != 0 {
		t.Fatalf("excluded events counted: %+v", a)
	}
	s := e.Stats()
	if s.Rules[0].Excluded != 2 || s.Excluded != 2 || s.Rules[0].Matched != 4 {
		t.Errorf("stats = %+v", s.Rules[0])
	}
	if a := collect(e, failure("user9", "10.0.0.1", 10*time.Second)); len(a) != 1 || len(a[0].Values) != 5 ||
		strings.Contains(fmt.Sprint(a[0].Values), "user0") {
		t.Fatalf("alerts %+v", a)
	}
	// The original rule is untouched and another engine is unaffected.
	if a := collect(engineOf(t, Options{}, r), sprayFrom("10.0.0.1", 5, 0)...); len(a) != 1 {
		t.Fatal("untuned engine did not fire")
	}
}

func TestTuningThresholdOverride(t *testing.T) {
	r := sprayRule(t)
	e := engineOf(t, Options{Tuning: Tuning{Rules: map[string]RuleTuning{"spray": {Threshold: 8}}}}, r)
	if a := collect(e, sprayFrom("10.0.0.1", 7, 0)...); len(a) != 0 {
		t.Fatal("fired at the rule's threshold, not the override")
	}
	if a := collect(e, failure("user7", "10.0.0.1", 8*time.Second)); len(a) != 1 || a[0].Count != 8 {
		t.Fatalf("did not fire at 8: %+v", a)
	}
	if r.Threshold != 5 || e.Rules()[0].Threshold != 8 {
		t.Errorf("thresholds rule %d engine %d", r.Threshold, e.Rules()[0].Threshold)
	}
	// Sequence: the first step's count.
	seq := mustParse(t, seqRule)
	e = engineOf(t, Options{Tuning: Tuning{Rules: map[string]RuleTuning{"test-rule": {Threshold: 4}}}}, seq)
	evs := append(spray("10.0.0.9", 0), logonFrom("u1", "10.0.0.9", 5*time.Minute))
	if a := collect(e, evs...); len(a) != 0 {
		t.Fatal("sequence fired with 3 distinct users, override 4")
	}
	evs = append(sprayFrom("10.0.0.9", 4, 6*time.Minute), logonFrom("u1", "10.0.0.9", 7*time.Minute))
	if a := collect(e, evs...); len(a) != 1 {
		t.Fatal("sequence did not fire at the override")
	}
}

func TestTuningWildcardAndDisabled(t *testing.T) {
	spray, count := sprayRule(t), ruleWith(t, countKind, failWhere)
	count.ID = "count"
	tun := Tuning{Rules: map[string]RuleTuning{
		"*":     {ExcludeIPs: []string{"10.0.0.0/24"}},
		"count": {Disabled: true},
	}}
	e := engineOf(t, Options{Tuning: tun}, spray, count)
	if a := collect(e, sprayFrom("10.0.0.1", 10, 0)...); len(a) != 0 {
		t.Fatalf("alerts %+v", a)
	}
	if a := collect(e, sprayFrom("10.0.1.1", 5, 0)...); len(a) != 1 || a[0].Rule.ID != "spray" {
		t.Fatalf("alerts %+v", a)
	}
	s := e.Stats()
	if s.Rules[0].Excluded != 10 || !s.Rules[1].Disabled || s.Rules[1].Evaluated != 0 {
		t.Errorf("stats %+v", s.Rules)
	}
	// "*" threshold applies to rules with a threshold, the rule's own wins.
	tun = Tuning{Rules: map[string]RuleTuning{"*": {Threshold: 2}, "spray": {Threshold: 7}}}
	e = engineOf(t, Options{Tuning: tun}, spray, count, mustParse(t, baseRule))
	if rs := e.Rules(); rs[0].Threshold != 7 || rs[1].Threshold != 2 || rs[2].Threshold != 0 {
		t.Errorf("thresholds %d %d %d", rs[0].Threshold, rs[1].Threshold, rs[2].Threshold)
	}
}

func TestTuningValidate(t *testing.T) {
	rules := []*Rule{sprayRule(t), mustParse(t, baseRule)}
	bad := Tuning{Rules: map[string]RuleTuning{
		"no-such-rule": {Disabled: true},
		"spray":        {ExcludeIPs: []string{"10.0.0.0/33", "not-an-ip"}, ExcludeAccounts: []string{`a\b\c`}},
		"test-rule":    {Threshold: 3},
		"*":            {Threshold: -1},
	}}
	err := bad.Validate(rules)
	if err == nil {
		t.Fatal("bad tuning accepted")
	}
	for _, w := range []string{`unknown rule id "no-such-rule"`, `bad CIDR range "10.0.0.0/33"`, `bad address "not-an-ip"`,
		`tuning.rules.test-rule.threshold: rule kind match has no threshold`, `tuning.rules.*.threshold`, `a\\b\\c`} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
	if _, err := New(rules, Options{Tuning: bad}); err == nil {
		t.Error("New accepted a bad tuning")
	}
	good := Tuning{Rules: map[string]RuleTuning{"*": {ExcludeHosts: []string{"ws-*"}}, "spray": {Threshold: 9, ExcludeIPs: []string{"fd00::/8"}}}}
	if err := good.Validate(rules); err != nil {
		t.Fatal(err)
	}
}

func TestDiffAlerts(t *testing.T) {
	r := sprayRule(t)
	evs := append(sprayFrom("10.0.0.1", 5, 0), sprayFrom("10.0.0.2", 5, 0)...)
	before := collect(engineOf(t, Options{}, r), evs...)
	tun := Tuning{Rules: map[string]RuleTuning{"spray": {ExcludeIPs: []string{"10.0.0.2"}}}}
	after := collect(engineOf(t, Options{Tuning: tun}, r), evs...)
	suppressed, added := DiffAlerts(before, after)
	if len(before) != 2 || len(suppressed) != 1 || suppressed[0].GroupKey["source.ip"] != "10.0.0.2" || len(added) != 0 {
		t.Fatalf("before %d suppressed %+v added %+v", len(before), suppressed, added)
	}
	suppressed, added = DiffAlerts(after, before)
	if len(suppressed) != 0 || len(added) != 1 {
		t.Fatal("reverse diff")
	}
}

func TestTuningNewKinds(t *testing.T) {
	tun := Tuning{Rules: map[string]RuleTuning{"*": {ExcludeAccounts: []string{"bob"}}}}
	// missing_predecessor: bob's ticket without a TGT is excluded; carol's alerts.
	src := strings.Replace(missingRule, "learning: 10h", "learning: 1m", 1)
	e := engineOf(t, Options{Tuning: tun}, mustParse(t, src))
	a := collect(e, tgt("x", 0), tgs("bob", "svc", time.Hour), tgs("carol", "svc", time.Hour), tgt("x", 2*time.Hour))
	if len(a) != 1 || a[0].User.Name != "carol" || e.Stats().Rules[0].Excluded != 1 {
		t.Fatalf("alerts %+v stats %+v", a, e.Stats().Rules[0])
	}
	// A predecessor of an excluded account still counts for the rule.
	e = engineOf(t, Options{Tuning: tun}, mustParse(t, strings.Replace(src, "key: [user.name]", "key: { event: [target.user.name], predecessor: [user.name] }", 1)))
	svc := tgs("carol", "svc", time.Hour)
	svc.Target.User.Name = "dave"
	a = collect(e, tgt("x", 0), tgt("bob", 30*time.Minute), tgs("req", "svc", time.Hour), svc, tgt("x", 2*time.Hour))
	if len(a) != 1 || a[0].GroupKey["target.user.name"] != "dave" {
		t.Fatalf("alerts %+v", a)
	}
	// new_value: bob's values are neither learned nor alerted.
	e = engineOf(t, Options{Tuning: tun}, mustParse(t, newValueRule))
	a = collect(e, logonFrom("bob", "10.0.0.1", 0), logonFrom("alice", "10.0.0.1", 0), logonFrom("bob", "10.0.0.2", 2*day), logonFrom("alice", "10.0.0.2", 2*day))
	if len(a) != 1 || a[0].User.Name != "alice" || e.Stats().Keys != 1 {
		t.Fatalf("alerts %+v keys %d", a, e.Stats().Keys)
	}
	// sequence: an excluded source never starts a sequence.
	e = engineOf(t, Options{Tuning: Tuning{Rules: map[string]RuleTuning{"test-rule": {ExcludeIPs: []string{"10.0.0.9"}}}}}, mustParse(t, seqRule))
	if a := collect(e, append(spray("10.0.0.9", 0), logonFrom("u1", "10.0.0.9", 5*time.Minute))...); len(a) != 0 || e.Stats().Keys != 0 || e.Stats().Excluded != 4 {
		t.Fatalf("alerts %+v stats %+v", a, e.Stats())
	}
}
