package engine

import (
	"slices"
	"strings"
	"testing"
)

func TestRuleResponseBlock(t *testing.T) {
	r := mustParse(t, baseRule+"response: { mode: enforce, actions: [disable_user, revoke_sessions] }\n")
	if r.Response == nil || r.Response.Mode != ResponseEnforce || !slices.Equal(r.Response.Actions, []string{"disable_user", "revoke_sessions"}) {
		t.Fatalf("Response = %+v", r.Response)
	}
	if r := mustParse(t, baseRule); r.Response != nil {
		t.Errorf("a rule without a response block has Response %+v", r.Response)
	}
	if r := mustParse(t, baseRule+"response: { actions: [disable_user] }\n"); r.Response.Mode != ResponseDryRun {
		t.Errorf("default mode %q, want dry_run", r.Response.Mode)
	}
	for src, want := range map[string]string{
		"response: { mode: now, actions: [disable_user] }\n":    `test-rule.yml:10: response.mode "now": want dry_run or enforce`,
		"response: { actions: [] }\n":                           "response.actions: required",
		"response: { actions: [disable_usr] }\n":                `response.actions[0]: unknown action "disable_usr"`,
		"response: { actions: [disable_user, disable_user] }\n": `response.actions[1]: "disable_user" listed twice`,
		"response: { action: [disable_user] }\n":                "field action not found",
	} {
		_, err := ParseRule([]byte(baseRule+src), "rules/test-rule.yml")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s→ %v, want %q", src, err, want)
		}
	}
}
