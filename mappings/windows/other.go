package windows

import "github.com/castellan-itdr/castellan/mappings/schema"

// Events that stay schema.KindOther: they carry no authentication or change
// the model describes, but rules still want them by a precise action.

// mapOtherAction maps an event to KindOther with action; the acting identity
// is the Subject, else the Target (see mapOther).
func mapOtherAction(action string) mapper {
	return func(r *Record, ev *schema.Event) {
		mapOther(r, ev)
		ev.Event.Action = action
		ev.Event.Outcome = schema.OutcomeSuccess
	}
}

// mapLogoff: 4634 an account was logged off, 4647 user initiated logoff. The
// user is the Target (the session's account).
func mapLogoff(action string) mapper {
	return func(r *Record, ev *schema.Event) {
		ev.Event.Kind = schema.KindOther
		ev.Event.Action = action
		ev.Event.Outcome = schema.OutcomeSuccess
		ev.User = targetUser(r)
		setLogonType(r, ev)
	}
}

// mapPrivilegedService: 4673 a privileged service was called (success or
// failure; EventData does not tell which). Service, PrivilegeList and
// ProcessName stay in Original.
func mapPrivilegedService(r *Record, ev *schema.Event) {
	ev.Event.Kind = schema.KindOther
	ev.Event.Action = "privileged-service-called"
	ev.Event.Outcome = schema.OutcomeUnknown
	ev.User = subject(r)
	ev.Auth.Process = r.get("ProcessName")
}

// mapGroupEnumeration: 4798 a user's local group membership was enumerated
// (target.user), 4799 a security-enabled local group's membership was
// enumerated (target.group). A reconnaissance signal; CallerProcessName
// stays in Original.
func mapGroupEnumeration(r *Record, ev *schema.Event) {
	ev.Event.Kind = schema.KindOther
	ev.Event.Action = "group-membership-enumerated"
	ev.Event.Outcome = schema.OutcomeSuccess
	ev.User = subject(r)
	if r.EventID == 4799 {
		ev.Target.Group = schema.Group{Name: r.get("TargetUserName"), Domain: r.get("TargetDomainName"), ID: r.get("TargetSid")}
		return
	}
	ev.Target.User = r.user("TargetUserName", "TargetDomainName", "TargetSid", "")
	ev.Target.IsMachine = ev.Target.User.IsMachine
}

// mapShareAccess: 5140 a network share object was accessed, 5145 a network
// share object was checked to see whether the client can be granted the
// desired access (success or failure). ShareName, ShareLocalPath and
// RelativeTargetName stay in Original (the schema has no share field);
// AccessList is decoded into AccessListNames.
func mapShareAccess(action string) mapper {
	return func(r *Record, ev *schema.Event) {
		ev.Event.Kind = schema.KindOther
		ev.Event.Action = action
		ev.Event.Outcome = schema.OutcomeSuccess
		if r.EventID == 5145 {
			ev.Event.Outcome = schema.OutcomeUnknown
		}
		ev.User = subject(r)
		setSource(r, ev)
		setName(ev.Original, "AccessListNames", messageNames(r.get("AccessList"), messageText))
	}
}
