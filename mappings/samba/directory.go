package samba

import (
	"sort"
	"strings"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// maxDirValue caps directory.old_value / new_value (all values joined).
const maxDirValue = 4096

// groupEvents are the groupChange event ids Samba derives from the group
// type, with the mappings/windows action names.
var groupEvents = map[string]struct{ op, action string }{
	"4728": {"add", "member-added-to-global-group"},
	"4751": {"add", "member-added-to-global-group"}, // distribution
	"4732": {"add", "member-added-to-local-group"},
	"4746": {"add", "member-added-to-local-group"},
	"4756": {"add", "member-added-to-universal-group"},
	"4761": {"add", "member-added-to-universal-group"},
	"4729": {"delete", "member-removed-from-global-group"},
	"4752": {"delete", "member-removed-from-global-group"},
	"4733": {"delete", "member-removed-from-local-group"},
	"4747": {"delete", "member-removed-from-local-group"},
	"4757": {"delete", "member-removed-from-universal-group"},
	"4762": {"delete", "member-removed-from-universal-group"},
}

// dnUser is the account a DN names (its first RDN value).
func dnUser(dn string) schema.User {
	name := firstRDNValue(dn)
	return schema.User{Name: name, IsMachine: strings.HasSuffix(name, "$")}
}

// directoryCommon fills what every dsdb record shares: the acting session's
// SID, the client address and the outcome.
func directoryCommon(b map[string]any, ev *schema.Event) {
	ev.User = schema.User{ID: str(b, "userSid")}
	ev.Source.IP, ev.Source.Port = parseAddress(str(b, "remoteAddress"))
	ok, reason := succeeded(b)
	ev.Event.Outcome = outcome(ok)
	ev.Event.Reason = reason
}

// mapGroupChange: a member was added to or removed from a group, or an
// account's primary group was set.
func mapGroupChange(r *record, ev *schema.Event) {
	b := r.body
	directoryCommon(b, ev)
	group, member := str(b, "group"), str(b, "user")
	ev.Target.Group = schema.Group{Name: firstRDNValue(group)}
	ev.Target.User = dnUser(member)
	ev.Target.IsMachine = ev.Target.User.IsMachine
	ev.Directory.Object = schema.DirObject{DN: group, Name: ev.Target.Group.Name}
	action := str(b, "action")
	if strings.EqualFold(action, "PrimaryGroup") {
		ev.Event.Kind = schema.KindGroupMembershipChange
		ev.Event.Action = "primary-group-set"
		ev.Directory.Operation = "modify"
		ev.Directory.Attribute = "primaryGroupID"
		return
	}
	if group != "" && strings.EqualFold(group, member) {
		// Samba 4.17 logs a new account's membership in its primary group
		// a second time with the account's own DN as the group: no group
		// changed, so it is not a membership change.
		ev.Event.Action = "new-account-group-record"
		ev.Target.Group = schema.Group{}
		return
	}
	ge, known := groupEvents[ev.Event.Code]
	if !known {
		switch {
		case strings.EqualFold(action, "Added"):
			ge.op, ge.action = "add", "member-added-to-group"
		case strings.EqualFold(action, "Removed"):
			ge.op, ge.action = "delete", "member-removed-from-group"
		default:
			ev.Event.Action = strings.ToLower(action)
			return
		}
	}
	ev.Event.Kind = schema.KindGroupMembershipChange
	ev.Event.Action = ge.action
	ev.Directory.Operation = ge.op
	ev.Directory.Attribute = "member"
	if ge.op == "add" {
		ev.Directory.NewValue = member
	} else {
		ev.Directory.OldValue = member
	}
}

// mapPasswordChange: 4723 a user changed a password, 4724 a password was
// reset (as mappings/windows names them, with the outcome Samba logs).
func mapPasswordChange(r *record, ev *schema.Event) {
	b := r.body
	directoryCommon(b, ev)
	ev.Event.Kind = schema.KindAccountChange
	dn := str(b, "dn")
	ev.Target.User = dnUser(dn)
	ev.Target.IsMachine = ev.Target.User.IsMachine
	ev.Directory.Object = schema.DirObject{DN: dn, Name: ev.Target.User.Name}
	action := str(b, "action")
	switch {
	case ev.Event.Code == "4724" || (ev.Event.Code == "" && strings.EqualFold(action, "Reset")):
		ev.Event.Action = "password-reset-attempted"
	case ev.Event.Code == "4723" || (ev.Event.Code == "" && strings.EqualFold(action, "Change")):
		ev.Event.Action = "password-change-attempted"
	default:
		ev.Event.Action = "password-" + strings.ToLower(action)
	}
}

// attrChange is what one attribute's actions did.
type attrChange struct {
	added, deleted []string
	replaced       bool
	redacted       bool
}

// attributeChanges reads dsdbChange "attributes":
// {name: {"actions": [{"action": "add", "values": [{"value": …}]}]}}.
func attributeChanges(b map[string]any) (names []string, changes map[string]*attrChange) {
	attrs, _ := b["attributes"].(map[string]any)
	changes = make(map[string]*attrChange, len(attrs))
	for name, v := range attrs {
		c := &attrChange{}
		a, _ := v.(map[string]any)
		actions, _ := a["actions"].([]any)
		for _, av := range actions {
			act, _ := av.(map[string]any)
			if act == nil {
				continue
			}
			if str(act, "redacted") == "true" {
				c.redacted = true
			}
			var vals []string
			list, _ := act["values"].([]any)
			for _, x := range list {
				xv, _ := x.(map[string]any)
				if s := str(xv, "value"); s != "" {
					vals = append(vals, plainDN(s))
				} else if s := str(xv, "base64Value"); s != "" {
					vals = append(vals, s)
				}
			}
			switch strings.ToLower(str(act, "action")) {
			case "add":
				c.added = append(c.added, vals...)
			case "delete":
				c.deleted = append(c.deleted, vals...)
			case "replace":
				c.replaced = true
				c.added = append(c.added, vals...)
			}
		}
		names = append(names, name)
		changes[name] = c
	}
	sort.Strings(names)
	return names, changes
}

// joinValues joins attribute values one per line, capped.
func joinValues(vs []string) string {
	return truncate(strings.Join(vs, "\n"), maxDirValue)
}

// mapDSDBChange: an object was added, modified, deleted or renamed.
func mapDSDBChange(r *record, ev *schema.Event) {
	b := r.body
	directoryCommon(b, ev)
	ev.Event.Kind = schema.KindDirectoryChange
	dn := str(b, "dn")
	ev.Directory.Object = schema.DirObject{DN: dn, Name: firstRDNValue(dn)}
	names, changes := attributeChanges(b)
	switch op := strings.ToLower(str(b, "operation")); op {
	case "add":
		ev.Event.Action = "object-created"
		ev.Directory.Operation = "add"
		if c := changes["objectClass"]; c != nil && len(c.added) > 0 {
			ev.Directory.Object.Class = c.added[len(c.added)-1] // the most specific
		}
	case "delete":
		ev.Event.Action = "object-deleted"
		ev.Directory.Operation = "delete"
	case "rename":
		ev.Event.Action = "object-moved"
		ev.Directory.Operation = "move"
	case "modify":
		ev.Directory.Operation = "modify"
		ev.Directory.Attribute = strings.Join(names, ",")
		if len(names) != 1 {
			ev.Event.Action = "object-modified"
			return
		}
		c := changes[names[0]]
		switch {
		case c.replaced || (len(c.added) > 0 && len(c.deleted) > 0):
			ev.Event.Action = "attribute-value-replaced"
		case len(c.deleted) > 0:
			ev.Event.Action = "attribute-value-deleted"
		default:
			ev.Event.Action = "attribute-value-added"
		}
		if !c.redacted {
			ev.Directory.NewValue = joinValues(c.added)
			ev.Directory.OldValue = joinValues(c.deleted)
		}
	default:
		ev.Directory.Operation = op
		ev.Event.Action = "directory-" + op
	}
}

// mapTransaction: a dsdb transaction was committed or rolled back (logged
// for failures and slow transactions).
func mapTransaction(r *record, ev *schema.Event) {
	ev.Event.Action = "transaction-" + strings.ToLower(str(r.body, "action"))
}
