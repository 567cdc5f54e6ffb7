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
	ev.Event.Reason = statusReason(status)
	setStatusNames(r, ev, "Status")
}

// mapNTLMAudit: Microsoft-Windows-NTLM/Operational 8004, NTLM authentication
// to this domain controller (audit). SChannelName is the server that passed
// the authentication through; WorkstationName the client. The event does not
// tell the result.
func mapNTLMAudit(r *Record, ev *schema.Event) {
	ev.Event.Kind = schema.KindNTLMAuth
	ev.Event.Action = "ntlm-authentication-audited"
	ev.Event.Outcome = schema.OutcomeUnknown
	ev.Auth.Protocol = "ntlm"
	ev.User = r.user("UserName", "DomainName", "", "")
	ws := r.get("WorkstationName")
	ev.Source.Hostname = ws
	ev.Auth.NTLM.Workstation = ws
	ev.Destination.Hostname = r.get("SChannelName")
	setName(ev.Original, "SChannelTypeName", secureChannelTypes[r.get("SChannelType")])
}
