package engine

import (
	"slices"
	"strings"
)

// Response modes of a rule's response block.
const (
	ResponseDryRun  = "dry_run"
	ResponseEnforce = "enforce"
)

// ResponseActions lists the action names a rule's response block may name
// (package connector/respond implements them). disable_user acts on the
// directory the alert's user comes from (AD for a SID or DOMAIN\name, Entra
// for an object id or a UPN-only identity); revoke_sessions,
// confirm_compromised and dismiss_risk are Entra actions.
var ResponseActions = []string{
	"disable_user", "force_password_change", "reset_password", "remove_from_privileged_groups",
	"revoke_sessions", "confirm_compromised",
}

// RuleResponse is a rule's response block: the actions run on the alert's
// user when the rule fires. Mode enforce takes effect only when the
// configuration's response.mode is enforce as well.
type RuleResponse struct {
	Mode    string
	Actions []string
}

type responseFile struct {
	Mode    string   `yaml:"mode"`
	Actions []string `yaml:"actions"`
}

func (c *compiler) compileResponse(rf *responseFile) *RuleResponse {
	if rf == nil {
		return nil
	}
	r := &RuleResponse{Mode: rf.Mode}
	switch rf.Mode {
	case "":
		r.Mode = ResponseDryRun
	case ResponseDryRun, ResponseEnforce:
	default:
		c.errf("response", "response.mode %q: want dry_run or enforce", rf.Mode)
	}
	if len(rf.Actions) == 0 {
		c.errf("response", "response.actions: required (%s)", strings.Join(ResponseActions, ", "))
	}
	for i, a := range rf.Actions {
		switch {
		case !slices.Contains(ResponseActions, a):
			c.errf("response", "response.actions[%d]: unknown action %q (%s)", i, a, strings.Join(ResponseActions, ", "))
		case slices.Contains(r.Actions, a):
			c.errf("response", "response.actions[%d]: %q listed twice", i, a)
		default:
			r.Actions = append(r.Actions, a)
		}
	}
	return r
}
