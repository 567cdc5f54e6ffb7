package entra

import (
	"encoding/json"
	"strings"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

func mapAudit(r *rec, ev *schema.Event) error {
	id, err := r.id()
	if err != nil {
		return err
	}
	ts, err := r.time("activityDateTime")
	if err != nil {
		return err
	}
	o := r.obj
	ev.ID = r.eventID(ResourceDirectoryAudit, id)
	ev.Timestamp = ts
	ev.Event.Kind = schema.KindCloudAudit
	ev.Event.RecordID = id
	ev.Event.Channel = CategoryAudit
	activity := str(o, "activityDisplayName")
	ev.Event.Action = slug(activity)
	ev.Event.Provider = Provider
	switch strings.ToLower(str(o, "result")) {
	case "success":
		ev.Event.Outcome = schema.OutcomeSuccess
	case "failure", "timeout":
		ev.Event.Outcome = schema.OutcomeFailure
		ev.Event.Reason = str(o, "resultReason")
	default:
		ev.Event.Outcome = schema.OutcomeUnknown
	}
	ev.Cloud.Category = str(o, "category")
	ev.Cloud.Operation = activity
	ev.Cloud.CorrelationID = str(o, "correlationId")

	by := obj(o, "initiatedBy")
	if u := obj(by, "user"); u != nil && (str(u, "id") != "" || str(u, "userPrincipalName") != "") {
		ev.User = userFromUPN(str(u, "userPrincipalName"), str(u, "id"))
		if ev.User.Name == "" {
			ev.User.Name = str(u, "displayName")
		}
		ev.Source.IP = str(u, "ipAddress")
	} else if a := obj(by, "app"); a != nil {
		ev.User = schema.User{
			Name: firstNonEmpty(str(a, "servicePrincipalName"), str(a, "displayName")),
			ID:   str(a, "servicePrincipalId"),
		}
		ev.Cloud.App = str(a, "displayName")
		ev.Cloud.AppID = str(a, "appId")
	}
	for _, d := range list(o, "additionalDetails") {
		if kv, ok := d.(map[string]any); ok && strings.EqualFold(str(kv, "key"), "User-Agent") {
			ev.Cloud.UserAgent = str(kv, "value")
		}
	}

	targets := list(o, "targetResources")
	for i, t := range targets {
		tr, ok := t.(map[string]any)
		if !ok {
			continue
		}
		name := firstNonEmpty(str(tr, "displayName"), str(tr, "userPrincipalName"))
		if i == 0 {
			ev.Directory.Object = schema.DirObject{Name: name, GUID: str(tr, "id"), Class: str(tr, "type")}
		}
		switch {
		case strings.EqualFold(str(tr, "type"), "User") && ev.Target.User.ID == "" && ev.Target.User.UPN == "":
			ev.Target.User = userFromUPN(str(tr, "userPrincipalName"), str(tr, "id"))
			if ev.Target.User.Name == "" {
				ev.Target.User.Name = str(tr, "displayName")
			}
		case strings.EqualFold(str(tr, "type"), "Group") && ev.Target.Group == (schema.Group{}):
			ev.Target.Group = schema.Group{Name: str(tr, "displayName"), ID: str(tr, "id")}
		}
		if ev.Directory.Attribute == "" {
			for _, mp := range list(tr, "modifiedProperties") {
				p, ok := mp.(map[string]any)
				if !ok || str(p, "displayName") == "" {
					continue
				}
				ev.Directory.Attribute = str(p, "displayName")
				ev.Directory.OldValue = truncate(unquote(str(p, "oldValue")), MaxOriginalValue)
				ev.Directory.NewValue = truncate(unquote(str(p, "newValue")), MaxOriginalValue)
				break
			}
		}
	}
	ev.Directory.Operation = directoryOperation(str(o, "operationType"))
	if ev.Target.Group == (schema.Group{}) {
		ev.Target.Group = directoryRole(targets)
	}
	return nil
}

// directoryRole finds the directory role a role-management audit acts on:
// the Role.DisplayName / Role.TemplateId modified properties of "Add member
// to role" and its PIM variants, else a target of type Role. The role fills
// target.group (name = display name, id = role template id when logged,
// else the role's object id), so role and group rules read one field.
func directoryRole(targets []any) schema.Group {
	var g schema.Group
	for _, t := range targets {
		tr, ok := t.(map[string]any)
		if !ok {
			continue
		}
		if strings.EqualFold(str(tr, "type"), "Role") && g.Name == "" {
			g = schema.Group{Name: str(tr, "displayName"), ID: str(tr, "id")}
		}
		for _, mp := range list(tr, "modifiedProperties") {
			p, ok := mp.(map[string]any)
			if !ok {
				continue
			}
			switch v := unquote(str(p, "newValue")); str(p, "displayName") {
			case "Role.DisplayName":
				if v != "" {
					g.Name = truncate(v, MaxOriginalValue)
				}
			case "Role.TemplateId":
				if v != "" {
					g.ID = truncate(v, MaxOriginalValue)
				}
			}
		}
	}
	return g
}

// unquote decodes a JSON-encoded string value ("\"DirectorySync\"" →
// DirectorySync); anything else (arrays, plain text) stays as it is.
func unquote(s string) string {
	if len(s) < 2 || s[0] != '"' {
		return s
	}
	var out string
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return s
	}
	return out
}

// directoryOperation maps operationType onto directory.operation.
func directoryOperation(op string) string {
	switch strings.ToLower(op) {
	case "":
		return ""
	case "add", "assign":
		return "add"
	case "delete", "unassign":
		return "delete"
	case "update":
		return "modify"
	default:
		return strings.ToLower(op)
	}
}

// OriginalModifiedPrefix starts the Original keys under which a directory
// audit's modified properties are kept by name: "modified.Role.DisplayName",
// "modified.ConsentAction.Permissions", "modified.ConditionalAccessPolicy".
// The value is the property's newValue with JSON-string quoting removed;
// when several targets modify the same property the first one wins. Rules
// match these instead of positional keys such as
// "targetResources.0.modifiedProperties.4.newValue".
const OriginalModifiedPrefix = "modified."

func addModified(fields map[string]string, o map[string]any) {
	for _, t := range list(o, "targetResources") {
		tr, ok := t.(map[string]any)
		if !ok {
			continue
		}
		for _, mp := range list(tr, "modifiedProperties") {
			p, ok := mp.(map[string]any)
			name := str(p, "displayName")
			if !ok || name == "" {
				continue
			}
			k := OriginalModifiedPrefix + name
			if _, dup := fields[k]; !dup {
				fields[k] = unquote(str(p, "newValue"))
			}
		}
	}
}
