package windows

import (
	"strings"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// serviceInstall fills the service group; the host is the installer.
func serviceInstall(ev *schema.Event, name, file, typ, start, account string) {
	ev.Event.Kind = schema.KindServiceInstall
	ev.Event.Action = "service-installed"
	ev.Event.Outcome = schema.OutcomeSuccess
	ev.Service = schema.Service{Name: name, File: file, Type: typ, StartType: start, Account: account}
	ev.Target.Service = name
}

// mapServiceInstall7045: System 7045 a service was installed in the system.
func mapServiceInstall7045(r *Record, ev *schema.Event) {
	serviceInstall(ev, r.get("ServiceName"), r.get("ImagePath"), r.get("ServiceType"),
		r.get("StartType"), r.get("AccountName"))
}

// mapServiceInstall4697: Security 4697 a service was installed in the system.
func mapServiceInstall4697(r *Record, ev *schema.Event) {
	serviceInstall(ev, r.get("ServiceName"), r.get("ServiceFileName"), r.get("ServiceType"),
		r.get("ServiceStartType"), r.get("ServiceAccount"))
	ev.User = subject(r)
}

// mapAuditPolicy: 4719 system audit policy was changed. CategoryId,
// SubcategoryGuid and AuditPolicyChanges stay in Original.
func mapAuditPolicy(r *Record, ev *schema.Event) {
	ev.Event.Kind = schema.KindAuditPolicyChange
	ev.Event.Action = "audit-policy-changed"
	ev.Event.Outcome = schema.OutcomeSuccess
	ev.User = subject(r)
	if changes := r.get("AuditPolicyChanges"); strings.Contains(changes, "%%8448") || strings.Contains(changes, "%%8450") {
		ev.Event.Reason = "auditing removed"
	}
}

// mapLogCleared: Security 1102 and System 104 (the user is in UserData,
// read like EventData).
func mapLogCleared(action string) mapper {
	return func(r *Record, ev *schema.Event) {
		ev.Event.Kind = schema.KindLogCleared
		ev.Event.Action = action
		ev.Event.Outcome = schema.OutcomeSuccess
		ev.User = subject(r)
	}
}
