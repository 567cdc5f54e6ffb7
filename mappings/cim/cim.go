package cim

import (
	"slices"
	"strings"

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
	list := AppendFields(nil, r)
	if list == nil && !known(r) {
		return nil
	}
	m := make(map[string]any, len(list))
	for _, f := range list {
		m[f.Name] = f.Any()
	}
	return m
}

// ValueKind says which of a Field's values is set.
type ValueKind uint8

// Value kinds.
const (
	String      ValueKind = iota // Str
	List                         // List: a multi-value field
	Number                       // Num
	Annotations                  // List, written as {"mitre_attack": List}
)

// Field is one CIM field and its value, without reflection or boxing.
type Field struct {
	Name string
	Kind ValueKind
	Str  string
	List []string
	Num  int
}

// Any returns the value as Fields has it: a string, []string, int, or
// map[string]any{"mitre_attack": []string} for annotations.
func (f Field) Any() any {
	switch f.Kind {
	case List:
		return f.List
	case Number:
		return f.Num
	case Annotations:
		return map[string]any{"mitre_attack": f.List}
	}
	return f.Str
}

// AppendFields appends the CIM fields of a record to dst, sorted by name.
// Empty values are left out. Use it on hot paths; Fields is the same as a
// map.
func AppendFields(dst []Field, r schema.Record) []Field {
	f := fieldList(dst)
	switch v := r.(type) {
	case schema.Event:
		f.event(&v)
	case *schema.Event:
		f.event(v)
	case schema.Alert:
		f.alert(&v)
	case *schema.Alert:
		f.alert(v)
	case schema.Incident:
		f.incident(&v)
	case *schema.Incident:
		f.incident(v)
	case schema.Finding:
		f.finding(&v)
	case *schema.Finding:
		f.finding(v)
	case schema.Action:
		f.action(&v)
	case *schema.Action:
		f.action(v)
	}
	out := []Field(f)
	added := out[len(dst):]
	slices.SortFunc(added, func(a, b Field) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func known(r schema.Record) bool {
	switch r.(type) {
	case schema.Event, *schema.Event, schema.Alert, *schema.Alert, schema.Incident, *schema.Incident,
		schema.Finding, *schema.Finding, schema.Action, *schema.Action:
		return true
	}
	return false
}

// fieldList collects fields; set and list ignore empty values.
type fieldList []Field

func (f *fieldList) set(k, v string) {
	if v != "" {
		*f = append(*f, Field{Name: k, Str: v})
	}
}

func (f *fieldList) list(k string, v []string) {
	if len(v) > 0 {
		*f = append(*f, Field{Name: k, Kind: List, List: v})
	}
}

func (f *fieldList) num(k string, v int) { *f = append(*f, Field{Name: k, Kind: Number, Num: v}) }

// AlertFields maps an alert onto the Alerts data model.
func AlertFields(a *schema.Alert) map[string]any { return Fields(a) }

func (f *fieldList) alert(a *schema.Alert) {
	f.set("app", App)
	f.set("type", "alert")
	f.set("id", a.ID)
	f.set("severity", a.Severity.String())
	f.num("severity_id", int(a.Severity))
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
		f.set("mitre_technique_id", t)
		*f = append(*f, Field{Name: "annotations", Kind: Annotations, List: []string{t}})
	}
}

// IncidentFields maps an incident onto the Alerts data model. Its entities
// become multi-value user, src and dest.
func IncidentFields(i *schema.Incident) map[string]any { return Fields(i) }

func (f *fieldList) incident(i *schema.Incident) {
	f.set("app", App)
	f.set("type", "alert")
	f.set("id", i.ID)
	f.set("severity", i.Severity.String())
	f.num("severity_id", int(i.Severity))
	f.set("signature", i.Title)
	f.set("signature_id", "castellan-incident")
	f.set("description", i.Title)
	f.list("user", i.Entities.Users)
	f.list("src", i.Entities.IPs)
	f.list("dest", i.Entities.Hosts)
	var techs []string
	for _, t := range i.Threat.Techniques {
		techs = append(techs, t.ID)
	}
	if len(techs) > 0 {
		*f = append(*f, Field{Name: "mitre_technique_id", Kind: List, List: techs},
			Field{Name: "annotations", Kind: Annotations, List: techs})
	}
}

// FindingFields maps a posture finding onto the Alerts data model with type
// "warning" (a weakness, not an attack).
func FindingFields(x *schema.Finding) map[string]any { return Fields(x) }

func (f *fieldList) finding(x *schema.Finding) {
	f.set("app", App)
	f.set("type", "warning")
	f.set("id", x.ID)
	f.set("severity", x.Severity.String())
	f.num("severity_id", int(x.Severity))
	f.set("signature", x.Title)
	f.set("signature_id", x.AssessmentID)
	f.set("description", x.Evidence)
	f.list("dest", x.Entities)
	if t := x.Threat.Technique.ID; t != "" {
		f.set("mitre_technique_id", t)
		*f = append(*f, Field{Name: "annotations", Kind: Annotations, List: []string{t}})
	}
}

// ActionFields maps a response action onto the Change data model
// (Account_Management: the target account is modified).
func ActionFields(a *schema.Action) map[string]any { return Fields(a) }

func (f *fieldList) action(a *schema.Action) {
	f.set("change_type", "AAA")
	f.set("object_category", "user")
	f.set("vendor_account", a.Target.Domain)
	f.set("action", "modified")
	f.set("command", a.Type)
	f.set("object", a.Target.Identity())
	f.set("object_id", a.Target.ID)
	f.set("user", a.Trigger)
	f.set("result", a.Result)
	switch a.Result {
	case "succeeded", "simulated":
		f.set("status", "success")
	case "":
	default:
		f.set("status", "failure")
	}
}

// EventFields maps an event onto Authentication or Change, per its kind;
// events of other kinds get only app.
func EventFields(e *schema.Event) map[string]any { return Fields(e) }

func (f *fieldList) event(e *schema.Event) {
	switch eventModel(e.Event.Kind) {
	case Authentication:
		f.auth(e)
	case Change:
		f.change(e)
	default:
		f.set("app", App)
	}
}

func (f *fieldList) auth(e *schema.Event) {
	switch e.Event.Outcome {
	case schema.OutcomeSuccess:
		f.set("action", "success")
	case schema.OutcomeFailure:
		f.set("action", "failure")
	}
	switch {
	case e.Event.Kind == schema.KindCloudSignin && e.Cloud.App != "":
		f.set("app", e.Cloud.App)
	case e.Event.Kind == schema.KindCloudSignin:
		f.set("app", "Microsoft Entra ID")
	case e.Auth.Protocol != "":
		f.set("app", "win:"+e.Auth.Protocol)
	default:
		f.set("app", "win:auth")
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
		f.set("user_type", "computer")
	}
	f.set("signature", e.Event.Action)
	f.set("signature_id", e.Event.Code)
	f.set("reason", e.Event.Reason)
}

func (f *fieldList) change(e *schema.Event) {
	f.set("change_type", "AAA")
	switch e.Event.Kind {
	case schema.KindCloudAudit:
		f.set("command", e.Cloud.Operation)
		f.set("vendor_account", e.Cloud.TenantID)
	default:
		f.set("command", e.Event.Action)
	}
	switch e.Directory.Operation {
	case "add":
		f.set("action", "created")
	case "delete":
		f.set("action", "deleted")
	case "access":
		f.set("action", "read")
	default:
		f.set("action", "modified")
	}
	switch e.Event.Outcome {
	case schema.OutcomeSuccess:
		f.set("status", "success")
	case schema.OutcomeFailure:
		f.set("status", "failure")
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
