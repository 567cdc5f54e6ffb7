package cim

import (
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// Data model names.
const (
	Authentication = "Authentication"
	Change         = "Change"
	Alerts         = "Alerts"
)

// App is the CIM app / vendor product value of everything Castellan sends.
const App = "castellan"

// DataModel names the CIM data model a record maps to, "" for none (events
// of other kinds).
func DataModel(r schema.Record) string {
	switch v := r.(type) {
	case schema.Event:
		return eventModel(v.Event.Kind)
	case *schema.Event:
		return eventModel(v.Event.Kind)
	case schema.Alert, *schema.Alert, schema.Incident, *schema.Incident, schema.Finding, *schema.Finding:
		return Alerts
	case schema.Action, *schema.Action:
		return Change
	}
	return ""
}

func eventModel(k schema.EventKind) string {
	switch k {
	case schema.KindLogon, schema.KindLogonFailure, schema.KindKerberosTGT, schema.KindKerberosServiceTicket,
		schema.KindKerberosPreauthFail, schema.KindNTLMAuth, schema.KindLDAPBind, schema.KindCloudSignin:
		return Authentication
	case schema.KindDirectoryChange, schema.KindGroupMembershipChange, schema.KindAccountChange, schema.KindCloudAudit:
		return Change
	}
	return ""
}

// Fields returns the CIM fields of a record: CIM field name → string,
// []string, int or (annotations) map. Empty values are left out.
func Fields(r schema.Record) map[string]any {
	switch v := r.(type) {
	case schema.Event:
		return EventFields(&v)
	case *schema.Event:
		return EventFields(v)
	case schema.Alert:
		return AlertFields(&v)
	case *schema.Alert:
		return AlertFields(v)
	case schema.Incident:
		return IncidentFields(&v)
	case *schema.Incident:
		return IncidentFields(v)
	case schema.Finding:
		return FindingFields(&v)
	case *schema.Finding:
		return FindingFields(v)
	case schema.Action:
		return ActionFields(&v)
	case *schema.Action:
		return ActionFields(v)
	}
	return nil
}

// fields is a map that ignores empty values.
type fields map[string]any

func (f fields) set(k string, v any) {
	switch x := v.(type) {
	case string:
		if x == "" {
			return
		}
	case []string:
		if len(x) == 0 {
			return
		}
	}
	f[k] = v
}

// AlertFields maps an alert onto the Alerts data model.
func AlertFields(a *schema.Alert) map[string]any {
	f := fields{"app": App, "type": "alert"}
	f.set("id", a.ID)
	f.set("severity", a.Severity.String())
	f["severity_id"] = int(a.Severity)
	f.set("signature", a.Rule.Title)
	f.set("signature_id", a.Rule.ID)
	f.set("description", a.Message)
	f.set("user", a.User.Identity())
	f.set("user_name", a.User.Name)
	f.set("src", endpoint(a.Source))
	dest := a.Target.User.Identity()
	if dest == "" {
		dest = a.Target.Service
	}
	if dest == "" {
		dest = a.Host.Name
	}
	f.set("dest", dest)
	if t := a.Threat.Technique.ID; t != "" {
		f["mitre_technique_id"] = t
		f["annotations"] = map[string]any{"mitre_attack": []string{t}}
	}
	return f
}

// IncidentFields maps an incident onto the Alerts data model. Its entities
// become multi-value user, src and dest.
func IncidentFields(i *schema.Incident) map[string]any {
	f := fields{"app": App, "type": "alert"}
	f.set("id", i.ID)
	f.set("severity", i.Severity.String())
	f["severity_id"] = int(i.Severity)
	f.set("signature", i.Title)
	f.set("signature_id", "castellan-incident")
	f.set("description", i.Title)
	f.set("user", i.Entities.Users)
	f.set("src", i.Entities.IPs)
	f.set("dest", i.Entities.Hosts)
	var techs []string
	for _, t := range i.Threat.Techniques {
		techs = append(techs, t.ID)
	}
	if len(techs) > 0 {
		f["mitre_technique_id"] = techs
		f["annotations"] = map[string]any{"mitre_attack": techs}
	}
	return f
}

// FindingFields maps a posture finding onto the Alerts data model with type
// "warning" (a weakness, not an attack).
func FindingFields(x *schema.Finding) map[string]any {
	f := fields{"app": App, "type": "warning"}
	f.set("id", x.ID)
	f.set("severity", x.Severity.String())
	f["severity_id"] = int(x.Severity)
	f.set("signature", x.Title)
	f.set("signature_id", x.AssessmentID)
	f.set("description", x.Evidence)
	f.set("dest", x.Entities)
	if t := x.Threat.Technique.ID; t != "" {
		f["mitre_technique_id"] = t
		f["annotations"] = map[string]any{"mitre_attack": []string{t}}
	}
	return f
}

// ActionFields maps a response action onto the Change data model
// (Account_Management: the target account is modified).
func ActionFields(a *schema.Action) map[string]any {
	f := fields{"change_type": "AAA", "object_category": "user", "vendor_account": a.Target.Domain}
	if f["vendor_account"] == "" {
		delete(f, "vendor_account")
	}
	f.set("action", "modified")
	f.set("command", a.Type)
	f.set("object", a.Target.Identity())
	f.set("object_id", a.Target.ID)
	f.set("user", a.Trigger)
	f.set("result", a.Result)
	switch a.Result {
	case "succeeded", "simulated":
		f["status"] = "success"
	case "":
	default:
		f["status"] = "failure"
	}
	return f
}

// EventFields maps an event onto Authentication or Change, per its kind;
// events of other kinds get only app.
func EventFields(e *schema.Event) map[string]any {
	switch eventModel(e.Event.Kind) {
	case Authentication:
		return authFields(e)
	case Change:
		return changeFields(e)
	}
	return map[string]any{"app": App}
}

func authFields(e *schema.Event) map[string]any {
	f := fields{}
	switch e.Event.Outcome {
	case schema.OutcomeSuccess:
		f["action"] = "success"
	case schema.OutcomeFailure:
		f["action"] = "failure"
	}
	switch {
	case e.Event.Kind == schema.KindCloudSignin && e.Cloud.App != "":
		f["app"] = e.Cloud.App
	case e.Event.Kind == schema.KindCloudSignin:
		f["app"] = "Microsoft Entra ID"
	case e.Auth.Protocol != "":
		f["app"] = "win:" + e.Auth.Protocol
	default:
		f["app"] = "win:auth"
	}
	f.set("authentication_method", e.Auth.Protocol)
	if e.Event.Kind == schema.KindCloudSignin {
		f.set("authentication_service", "Microsoft Entra ID")
		f.set("user_agent", e.Cloud.UserAgent)
		f.set("vendor_account", e.Cloud.TenantID)
	} else {
		f.set("authentication_service", "Active Directory")
	}
	f.set("src", endpoint(e.Source))
	dest := e.Target.Service
	if dest == "" {
		dest = endpoint(e.Destination)
	}
	if dest == "" {
		dest = e.Host.Name
	}
	f.set("dest", dest)
	f.set("dest_nt_domain", e.User.Domain)
	f.set("user", userName(e.User))
	f.set("user_id", e.User.ID)
	if e.User.IsMachine {
		f["user_type"] = "computer"
	}
	f.set("signature", e.Event.Action)
	f.set("signature_id", e.Event.Code)
	f.set("reason", e.Event.Reason)
	return f
}

func changeFields(e *schema.Event) map[string]any {
	f := fields{"change_type": "AAA"}
	switch e.Event.Kind {
	case schema.KindCloudAudit:
		f.set("command", e.Cloud.Operation)
		f.set("vendor_account", e.Cloud.TenantID)
	default:
		f.set("command", e.Event.Action)
	}
	switch e.Directory.Operation {
	case "add":
		f["action"] = "created"
	case "delete":
		f["action"] = "deleted"
	case "access":
		f["action"] = "read"
	default:
		f["action"] = "modified"
	}
	switch e.Event.Outcome {
	case schema.OutcomeSuccess:
		f["status"] = "success"
	case schema.OutcomeFailure:
		f["status"] = "failure"
	}
	obj, cat, id := e.Directory.Object.Name, e.Directory.Object.Class, e.Directory.Object.GUID
	switch {
	case e.Target.Group.Name != "":
		obj, cat, id = e.Target.Group.Name, "group", e.Target.Group.ID
	case e.Target.User.Identity() != "":
		obj, cat, id = e.Target.User.Identity(), "user", e.Target.User.ID
	}
	if obj == "" {
		obj = e.Directory.Object.DN
	}
	f.set("object", obj)
	f.set("object_category", cat)
	f.set("object_id", id)
	f.set("object_path", e.Directory.Object.DN)
	f.set("object_attrs", e.Directory.Attribute)
	f.set("user", e.User.Identity())
	f.set("user_name", e.User.Name)
	f.set("src", endpoint(e.Source))
	f.set("dest", e.Host.Name)
	f.set("result_id", e.Event.Code)
	f.set("result", e.Event.Reason)
	return f
}

// userName is the CIM user of an authentication: the account name, else
// UPN, else id.
func userName(u schema.User) string {
	switch {
	case u.Name != "":
		return u.Name
	case u.UPN != "":
		return u.UPN
	}
	return u.ID
}

func endpoint(e schema.Endpoint) string {
	if e.IP != "" {
		return e.IP
	}
	return e.Hostname
}
