package windows

import "github.com/castellan-itdr/castellan/mappings/schema"

// mapNTLM: 4776 the computer attempted to validate the credentials for an
// account (NTLM).
func mapNTLM(r *Record, ev *schema.Event) {
	ev.Event.Kind = schema.KindNTLMAuth
	ev.Event.Action = "credentials-validated"
	ev.Auth.Protocol = "ntlm"
	ev.User = r.user("TargetUserName", "", "", "")
	ws := r.get("Workstation")
	ev.Source.Hostname = ws
	ev.Auth.NTLM.Workstation = ws
	ev.Auth.Package = r.get("PackageName")
	status := hexCode(r.get("Status"))
	if success(status) {
		ev.Event.Outcome = schema.OutcomeSuccess
		return
	}
	ev.Event.Outcome = schema.OutcomeFailure
	ev.Auth.FailureCode = status
	ev.Event.Reason = logonFailureReasons[status]
}
