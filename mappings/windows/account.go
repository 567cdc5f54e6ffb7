package windows

import (
	"strings"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// failureIDs are account events that only report failures.
var failureIDs = map[int]bool{4766: true}

// unknownOutcomeIDs are logged for both success and failure; the outcome
// lives in the event keywords, which EventData does not carry.
var unknownOutcomeIDs = map[int]bool{4723: true, 4724: true, 4794: true}

// accountCommon: user = Subject, target.user = Target*.
func accountCommon(r *Record, ev *schema.Event, action string) {
	ev.Event.Kind = schema.KindAccountChange
	ev.Event.Action = action
	switch {
	case failureIDs[r.EventID]:
		ev.Event.Outcome = schema.OutcomeFailure
	case unknownOutcomeIDs[r.EventID]:
		ev.Event.Outcome = schema.OutcomeUnknown
	default:
		ev.Event.Outcome = schema.OutcomeSuccess
	}
	ev.User = subject(r)
	ev.Target.User = r.user("TargetUserName", "TargetDomainName", "TargetSid", "")
	ev.Target.IsMachine = ev.Target.User.IsMachine
}

// mapAccount maps the account management events 4720-4767 and 4794. For
// changes that carry UserAccountControl, it becomes directory.attribute /
// new_value; the raw SPN, delegation and SID-history fields stay in Original.
func mapAccount(action string) mapper {
	return func(r *Record, ev *schema.Event) {
		accountCommon(r, ev, action)
		if uac := r.get("UserAccountControl"); uac != "" {
			ev.Directory.Attribute = "userAccountControl"
			ev.Directory.NewValue = uac
			ev.Directory.Operation = "modify"
			setName(ev.Original, "UserAccountControlFlags", messageNames(uac, uacMessage))
		}
		setName(ev.Original, "OldUacValueFlags", uacFlags(r.get("OldUacValue")))
		setName(ev.Original, "NewUacValueFlags", uacFlags(r.get("NewUacValue")))
		if r.EventID == 4794 {
			ev.Source.Hostname = r.get("Workstation")
			if st := hexCode(r.get("Status")); !success(st) {
				ev.Event.Outcome = schema.OutcomeFailure
				ev.Auth.FailureCode = st
			} else if st == "0x0" {
				ev.Event.Outcome = schema.OutcomeSuccess
			}
		}
	}
}

// mapAccountLockout: 4740 a user account was locked out. TargetDomainName
// holds the caller computer name, not a domain.
func mapAccountLockout(r *Record, ev *schema.Event) {
	accountCommon(r, ev, "user-account-locked-out")
	ev.Target.User.Domain = ""
	ev.Source.Hostname = r.get("TargetDomainName")
}

// mapAccountRename: 4781 the name of an account was changed.
func mapAccountRename(r *Record, ev *schema.Event) {
	accountCommon(r, ev, "account-name-changed")
	name := r.get("NewTargetUserName")
	ev.Target.User.Name = name
	ev.Target.User.IsMachine = strings.HasSuffix(name, "$")
	ev.Target.IsMachine = ev.Target.User.IsMachine
	ev.Directory.Attribute = "sAMAccountName"
	ev.Directory.Operation = "modify"
	ev.Directory.OldValue = r.get("OldTargetUserName")
	ev.Directory.NewValue = name
}

// mapGroupMember maps 4728/4732/4756 (added) and 4729/4733/4757 (removed).
func mapGroupMember(op, action string) mapper {
	return func(r *Record, ev *schema.Event) {
		ev.Event.Kind = schema.KindGroupMembershipChange
		ev.Event.Action = action
		ev.Event.Outcome = schema.OutcomeSuccess
		ev.User = subject(r)
		ev.Target.Group = schema.Group{
			Name:   r.get("TargetUserName"),
			Domain: r.get("TargetDomainName"),
			ID:     r.get("TargetSid"),
		}
		member := r.get("MemberName")
		name := firstRDNValue(member)
		if name == "" {
			name = member
		}
		ev.Target.User = schema.User{
			Name:      name,
			ID:        r.get("MemberSid"),
			IsMachine: strings.HasSuffix(name, "$"),
		}
		ev.Directory.Operation = op
		ev.Directory.Attribute = "member"
		if member != "" && firstRDNValue(member) != "" {
			if op == "add" {
				ev.Directory.NewValue = member
			} else {
				ev.Directory.OldValue = member
			}
		}
	}
}

// mapGroup maps the group lifecycle events (created, deleted, type changed):
// user = Subject, target.group = Target*.
func mapGroup(action string) mapper {
	return func(r *Record, ev *schema.Event) {
		ev.Event.Kind = schema.KindAccountChange
		ev.Event.Action = action
		ev.Event.Outcome = schema.OutcomeSuccess
		ev.User = subject(r)
		ev.Target.Group = schema.Group{
			Name:   r.get("TargetUserName"),
			Domain: r.get("TargetDomainName"),
			ID:     r.get("TargetSid"),
		}
	}
}
