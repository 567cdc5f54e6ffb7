package engine

import (
	"strings"
	"testing"
	"time"
)

const seqRule = `id: test-rule
title: Spray then success
status: test
severity: high
mitre: { tactic: TA0006, technique: T1110.003 }
description: Failures for many accounts from one source, then a success.
kind: sequence
group_by: [source.ip]
window: 30m
steps:
  - name: spray
    where: { event.kind: [logon_failure, kerberos_preauth_failure], event.outcome: failure }
    not: { auth.failure_code: "0xc0000064" }
    count: 3
    distinct: user.name
  - { name: success, where: { event.kind: [logon, kerberos_tgt], event.outcome: success } }
`

const newValueRule = `id: test-rule
title: Sign-in from a new address
status: test
severity: medium
mitre: { tactic: TA0006, technique: T1110.003 }
description: A user authenticates from an address not seen for them before.
kind: new_value
where: { event.kind: logon, event.outcome: success }
group_by: [user.name]
new_value: source.ip
learning: 1d
forget: 30d
max_values: 4
`

const missingRule = `id: test-rule
title: Service ticket without a TGT
status: test
severity: high
mitre: { tactic: TA0006, technique: T1558.001 }
description: A service ticket for an account with no TGT issued to it within the ticket lifetime.
kind: missing_predecessor
where: { event.kind: kerberos_service_ticket, event.outcome: success }
predecessor: { where: { event.kind: kerberos_tgt, event.outcome: success } }
key: [user.name]
within: 10h
grace: 5m
learning: 10h
`

func TestParseNewKinds(t *testing.T) {
	r := mustParse(t, seqRule)
	if r.Kind != KindSequence || r.Window != 30*time.Minute || len(r.Steps) != 2 ||
		r.Steps[0].Name != "spray" || r.Steps[0].Count != 3 || r.Steps[0].Distinct != "user.name" ||
		r.Steps[1].Count != 1 || len(r.Steps[0].not) != 1 {
		t.Errorf("sequence = %+v", r)
	}
	if strings.Join(r.kindValues, ",") != "logon_failure,kerberos_preauth_failure,logon,kerberos_tgt" {
		t.Errorf("sequence kinds = %v", r.kindValues)
	}
	r = mustParse(t, newValueRule)
	if r.Kind != KindNewValue || r.NewValue != "source.ip" || r.Learning != 24*time.Hour ||
		r.Forget != 30*24*time.Hour || r.MaxValues != 4 || len(r.groupGetters) != 1 {
		t.Errorf("new_value = %+v", r)
	}
	r = mustParse(t, missingRule)
	if r.Kind != KindMissingPredecessor || r.Within != 10*time.Hour || r.Grace != 5*time.Minute ||
		r.Learning != 10*time.Hour || strings.Join(r.Key, ",") != "user.name" || strings.Join(r.PredecessorKey, ",") != "user.name" {
		t.Errorf("missing_predecessor = %+v", r)
	}
	if strings.Join(r.kindValues, ",") != "kerberos_service_ticket,kerberos_tgt" {
		t.Errorf("missing_predecessor kinds = %v", r.kindValues)
	}
	r = mustParse(t, strings.Replace(strings.Replace(missingRule, "key: [user.name]", "key: { event: [target.user.name], predecessor: [user.name] }", 1), "learning: 10h\n", "", 1))
	if strings.Join(r.Key, ",") != "target.user.name" || strings.Join(r.PredecessorKey, ",") != "user.name" || r.Learning != r.Within {
		t.Errorf("join key = %v / %v, learning %s", r.Key, r.PredecessorKey, r.Learning)
	}
}

func TestParseNewKindErrors(t *testing.T) {
	cases := []struct {
		name, src string
		want      []string
	}{
		{"one step", strings.Replace(seqRule, "  - { name: success, where: { event.kind: [logon, kerberos_tgt], event.outcome: success } }\n", "", 1), []string{"at least 2 steps"}},
		{"step without where", strings.Replace(seqRule, "{ name: success, where: { event.kind: [logon, kerberos_tgt], event.outcome: success } }", "{ name: success }", 1), []string{":16", "steps[1].where: required"}},
		{"step bad field", strings.Replace(seqRule, "distinct: user.name", "distinct: user.nme", 1), []string{":11", `steps[0].distinct: unknown field "user.nme"`}},
		{"step bad where field", strings.Replace(seqRule, "event.outcome: success", "event.outcom: success", 1), []string{":16", `unknown field "event.outcom"`}},
		{"step zero count", strings.Replace(seqRule, "count: 3", "count: 0", 1), []string{"steps[0].count: must be between"}},
		{"step unknown key", strings.Replace(seqRule, "count: 3", "cnt: 3", 1), []string{"cnt"}},
		{"duplicate step", strings.Replace(seqRule, "name: success", "name: spray", 1), []string{"duplicate step name"}},
		{"sequence threshold", seqRule + "threshold: 3\n", []string{"threshold: not allowed for kind sequence"}},
		{"sequence no window", strings.Replace(seqRule, "window: 30m\n", "", 1), []string{"window: required"}},
		{"new_value no field", strings.Replace(newValueRule, "new_value: source.ip\n", "", 1), []string{"new_value: required"}},
		{"new_value bad field", strings.Replace(newValueRule, "new_value: source.ip", "new_value: source.ipp", 1), []string{":10", `unknown field "source.ipp"`}},
		{"new_value no learning", strings.Replace(newValueRule, "learning: 1d\n", "", 1), []string{"learning: required"}},
		{"new_value bad forget", strings.Replace(newValueRule, "forget: 30d", "forget: 30days", 1), []string{":12", `forget "30days"`}},
		{"new_value learning > forget", strings.Replace(newValueRule, "learning: 1d", "learning: 40d", 1), []string{"must not exceed forget"}},
		{"new_value max_values", strings.Replace(newValueRule, "max_values: 4", "max_values: 0", 1), []string{"max_values: must be between"}},
		{"new_value window", newValueRule + "window: 1h\n", []string{"window: not allowed for kind new_value"}},
		{"missing no predecessor", strings.Replace(missingRule, "predecessor: { where: { event.kind: kerberos_tgt, event.outcome: success } }\n", "", 1), []string{"predecessor: required"}},
		{"missing pred bad field", strings.Replace(missingRule, "event.kind: kerberos_tgt, event.outcome", "event.kind: kerberos_tgt, event.outcom", 1), []string{`unknown field "event.outcom"`}},
		{"missing no key", strings.Replace(missingRule, "key: [user.name]\n", "", 1), []string{"key: required"}},
		{"missing key lengths", strings.Replace(missingRule, "key: [user.name]", "key: { event: [user.name, user.domain], predecessor: [user.name] }", 1), []string{"want the same number"}},
		{"missing key unknown", strings.Replace(missingRule, "key: [user.name]", "key: { event: [user.name], pred: [user.name] }", 1), []string{`unknown key "pred"`}},
		{"missing no within", strings.Replace(missingRule, "within: 10h\n", "", 1), []string{"within: required"}},
		{"missing group_by", missingRule + "group_by: [user.name]\n", []string{"group_by: not allowed for kind missing_predecessor"}},
		{"unknown kind", strings.Replace(missingRule, "kind: missing_predecessor", "kind: teleport", 1), []string{`kind "teleport"`, "missing_predecessor"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseRule([]byte(tc.src), "rules/test-rule.yml")
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

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"7d": 7 * 24 * time.Hour, "1d12h": 36 * time.Hour, "10m": 10 * time.Minute, "30d": 720 * time.Hour} {
		if got, err := parseDuration(in); err != nil || got != want {
			t.Errorf("%s = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"d", "7days", "1d1x", ""} {
		if _, err := parseDuration(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}
