package engine

import (
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

const baseRule = `id: test-rule
title: Test rule
status: test
severity: high
mitre: { tactic: TA0006, technique: T1558.003 }
description: A test rule.
kind: match
where:
  event.kind: kerberos_service_ticket
`

func mustParse(t *testing.T, src string) *Rule {
	t.Helper()
	r, err := ParseRule([]byte(src), "rules/test-rule.yml")
	if err != nil {
		t.Fatalf("ParseRule: %v", err)
	}
	return r
}

func TestParseRuleValid(t *testing.T) {
	r := mustParse(t, `id: test-rule
title: Kerberoasting — burst of RC4 service tickets
status: stable
severity: high
mitre: { tactic: TA0006, technique: T1558.003 }
mdi: [2410]
description: |
  One account requests RC4 service tickets for many distinct SPNs.
kind: distinct
where:
  event.kind: kerberos_service_ticket
  auth.kerberos.etype: [rc4-hmac, rc4-hmac-exp]
  target.is_machine: false
not:
  target.service|startswith: krbtgt
group_by: [user.name]
distinct: target.service
threshold: 5
window: 10m
tags: [kerberos]
tests:
  - { sample: samples/rules/test-rule/positive.jsonl, expect: 1 }
  - { sample: samples/rules/test-rule/negative.jsonl, expect: 0 }
`)
	if r.ID != "test-rule" || r.Kind != KindDistinct || r.Threshold != 5 || r.Window != 10*time.Minute ||
		r.Severity != schema.SeverityHigh || r.Distinct != "target.service" || len(r.MDI) != 1 || r.MDI[0] != 2410 {
		t.Errorf("rule = %+v", r)
	}
	if r.techniqueName != "Steal or Forge Kerberos Tickets: Kerberoasting" || r.tacticName != "Credential Access" {
		t.Errorf("names %q %q", r.tacticName, r.techniqueName)
	}
	if len(r.Tests) != 2 || r.Tests[0].Expect != 1 || r.Tests[1].Expect != 0 {
		t.Errorf("tests = %+v", r.Tests)
	}
	if len(r.kindValues) != 1 || r.kindValues[0] != "kerberos_service_ticket" {
		t.Errorf("kindValues = %v", r.kindValues)
	}
	if err := Check(r); err != nil {
		t.Errorf("Check: %v", err)
	}
}

func TestParseRuleErrors(t *testing.T) {
	cases := []struct {
		name, src string
		want      []string
	}{
		{"unknown field", baseRule + "  user.nam: x\n", []string{"test-rule.yml:10", `unknown field "user.nam"`}},
		{"unknown field in not", baseRule + "not:\n  foo.bar: 1\n", []string{"test-rule.yml:11", `"foo.bar"`}},
		{"bad regex", baseRule + "  user.name|re: 'a(b'\n", []string{"test-rule.yml:10", "bad regular expression"}},
		{"unknown modifier", baseRule + "  user.name|like: x\n", []string{":10", "unknown modifier"}},
		{"exists not bool", baseRule + "  user.name|exists: yes-please\n", []string{":10", "want true or false"}},
		{"unknown kind value", baseRule + "  event.kind|contains: x\n  user.name: [a, b]\n", nil},
		{"unknown event kind", strings.Replace(baseRule, "kerberos_service_ticket", "kerberos_ticket", 1), []string{":9", `unknown kind "kerberos_ticket"`}},
		{"unknown technique", strings.Replace(baseRule, "T1558.003", "T1558.999", 1), []string{":5", "unknown ATT&CK technique"}},
		{"unknown tactic", strings.Replace(baseRule, "TA0006", "TA0099", 1), []string{"unknown ATT&CK tactic"}},
		{"technique tactic mismatch", strings.Replace(baseRule, "TA0006", "TA0007", 1), []string{":5", "does not belong to tactic TA0007"}},
		{"unknown key", baseRule + "severty: low\n", []string{"test-rule.yml", "line 10", "severty"}},
		{"missing description", strings.Replace(baseRule, "description: A test rule.\n", "", 1), []string{"description: required"}},
		{"bad severity", strings.Replace(baseRule, "severity: high", "severity: urgent", 1), []string{":4", "unknown severity"}},
		{"bad status", strings.Replace(baseRule, "status: test", "status: beta", 1), []string{":3", "status"}},
		{"id mismatch", strings.Replace(baseRule, "id: test-rule", "id: other-rule", 1), []string{":1", "must equal the file name"}},
		{"match with threshold", baseRule + "threshold: 3\n", []string{":10", "not allowed for kind match"}},
		{"threshold without window", strings.Replace(baseRule, "kind: match", "kind: threshold\nthreshold: 3", 1), []string{"window: required"}},
		{"threshold zero", strings.Replace(baseRule, "kind: match", "kind: threshold\nthreshold: 0\nwindow: 5m", 1), []string{"threshold: must be >= 1"}},
		{"bad window", strings.Replace(baseRule, "kind: match", "kind: threshold\nthreshold: 2\nwindow: soon", 1), []string{"window \"soon\""}},
		{"distinct without field", strings.Replace(baseRule, "kind: match", "kind: distinct\nthreshold: 2\nwindow: 5m", 1), []string{"distinct: required"}},
		{"bad group_by", strings.Replace(baseRule, "kind: match", "kind: threshold\nthreshold: 2\nwindow: 5m\ngroup_by: [actor.user.id]", 1), []string{`unknown field "actor.user.id"`}},
		{"missing where", strings.Replace(baseRule, "where:\n  event.kind: kerberos_service_ticket\n", "", 1), []string{"where: required"}},
		{"test without expect", baseRule + "tests:\n  - { sample: a.jsonl }\n", []string{"tests[0].expect: required"}},
		{"empty", "", []string{"empty rule file"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseRule([]byte(tc.src), "rules/test-rule.yml")
			if tc.want == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadDir(t *testing.T) {
	fsys := fstest.MapFS{
		"a/test-rule.yml":   {Data: []byte(baseRule)},
		"b/other-rule.yaml": {Data: []byte(strings.Replace(baseRule, "id: test-rule", "id: other-rule", 1))},
		"b/README.md":       {Data: []byte("not a rule")},
	}
	rules, err := LoadDir(fsys, ".")
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 2 || rules[0].ID != "other-rule" || rules[1].ID != "test-rule" || rules[1].File != "a/test-rule.yml" {
		t.Fatalf("rules = %v", rules)
	}
	fsys["c/test-rule.yml"] = &fstest.MapFile{Data: []byte(baseRule)}
	fsys["c/broken.yml"] = &fstest.MapFile{Data: []byte("id: broken\nbogus: 1\n")}
	_, err = LoadDir(fsys, ".")
	if err == nil || !strings.Contains(err.Error(), "duplicate rule id") || !strings.Contains(err.Error(), "c/broken.yml") {
		t.Fatalf("err = %v", err)
	}
}

func TestCheck(t *testing.T) {
	r := mustParse(t, baseRule)
	err := Check(r)
	if err == nil || !strings.Contains(err.Error(), "no positive") || !strings.Contains(err.Error(), "no negative") {
		t.Fatalf("Check = %v", err)
	}
	r = mustParse(t, baseRule+"tests:\n  - { sample: p.jsonl, expect: 2 }\n  - { sample: n.jsonl, expect: 0 }\n")
	if err := Check(r); err != nil {
		t.Fatal(err)
	}
	r.File = "x/else.yml"
	if err := Check(r); err == nil {
		t.Fatal("file name mismatch not reported")
	}
}

func FuzzParseRule(f *testing.F) {
	f.Add([]byte(baseRule))
	f.Add([]byte(baseRule + "not:\n  user.name|re: ['^a', 'b$']\n  user.name|exists: true\n"))
	f.Add([]byte(strings.Replace(baseRule, "kind: match", "kind: distinct\ngroup_by: [user.name]\ndistinct: target.service\nthreshold: 5\nwindow: 10m", 1)))
	f.Add([]byte("id: [\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRule(data, "rules/test-rule.yml")
		if err != nil {
			return
		}
		if r.ID != "test-rule" || r.Description == "" {
			t.Fatalf("accepted rule %+v", r)
		}
		e, err := New([]*Rule{r}, Options{MaxKeysPerRule: 4})
		if err != nil {
			t.Fatal(err)
		}
		ev := schema.Event{ID: "x", Timestamp: time.Unix(1, 0), Event: schema.EventMeta{Kind: schema.KindKerberosServiceTicket}}
		e.Process(&ev, func(schema.Alert) {})
	})
}

// not as a list excludes an event when any entry holds; as a mapping only
// when all its fields hold.
func TestNotListExcludesOnAnyEntry(t *testing.T) {
	src := `id: not-list
title: t
status: test
severity: low
mitre: { tactic: TA0006, technique: T1558.004 }
description: d
kind: match
where: { event.kind: kerberos_tgt }
not:
  - { event.dataset: netsensor }
  - { user.name|endswith: $, event.outcome: failure }
`
	r, err := ParseRule([]byte(src), "not-list.yml")
	if err != nil {
		t.Fatal(err)
	}
	ev := func(dataset, user, outcome string) *schema.Event {
		e := &schema.Event{}
		e.Event.Kind, e.Event.Dataset, e.Event.Outcome = "kerberos_tgt", dataset, outcome
		e.User.Name = user
		return e
	}
	for _, c := range []struct {
		e    *schema.Event
		want bool
	}{
		{ev("windows.security", "alice", "success"), true},
		{ev("netsensor", "alice", "success"), false},        // first entry
		{ev("windows.security", "ws01$", "failure"), false}, // second entry, both fields
		{ev("windows.security", "ws01$", "success"), true},  // second entry, one field only
		{ev("windows.security", "alice", "failure"), true},
	} {
		if got := r.matches(c.e); got != c.want {
			t.Errorf("dataset %q user %q outcome %q: matches %v, want %v", c.e.Event.Dataset, c.e.User.Name, c.e.Event.Outcome, got, c.want)
		}
	}
	if _, err := ParseRule([]byte(strings.Replace(src, "- { event.dataset: netsensor }", "- netsensor", 1)), "bad.yml"); err == nil {
		t.Error("a not list entry that is not a mapping was accepted")
	}
}
