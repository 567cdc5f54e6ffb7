package schema

import (
	"sort"
	"strconv"
	"strings"
)

// Getter reads one field of an event as a string ("" when absent; booleans
// as "true"/"false", numbers in decimal).
type Getter func(*Event) string

// Field resolves a dotted field path (as written in rules and in
// docs/schema.md) to a Getter. Paths under "original." read the raw source
// field of that name. ok is false for an unknown path.
func Field(path string) (g Getter, ok bool) {
	if name, found := strings.CutPrefix(path, "original."); found && name != "" {
		return func(e *Event) string { return e.Original[name] }, true
	}
	g, ok = fields[path]
	return g, ok
}

// FieldPaths lists every typed field path, sorted.
func FieldPaths() []string {
	out := make([]string, 0, len(fields))
	for p := range fields {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func floatStr(f float64) string {
	if f == 0 {
		return ""
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

func intStr(i int) string {
	if i == 0 {
		return ""
	}
	return strconv.Itoa(i)
}

var fields = map[string]Getter{
	"id":                           func(e *Event) string { return e.ID },
	"event.kind":                   func(e *Event) string { return string(e.Event.Kind) },
	"event.code":                   func(e *Event) string { return e.Event.Code },
	"event.action":                 func(e *Event) string { return e.Event.Action },
	"event.outcome":                func(e *Event) string { return e.Event.Outcome },
	"event.provider":               func(e *Event) string { return e.Event.Provider },
	"event.channel":                func(e *Event) string { return e.Event.Channel },
	"event.dataset":                func(e *Event) string { return e.Event.Dataset },
	"event.record_id":              func(e *Event) string { return e.Event.RecordID },
	"event.reason":                 func(e *Event) string { return e.Event.Reason },
	"host.name":                    func(e *Event) string { return e.Host.Name },
	"host.domain":                  func(e *Event) string { return e.Host.Domain },
	"host.ip":                      func(e *Event) string { return e.Host.IP },
	"host.is_dc":                   func(e *Event) string { return boolStr(e.Host.IsDC) },
	"user.name":                    func(e *Event) string { return e.User.Name },
	"user.domain":                  func(e *Event) string { return e.User.Domain },
	"user.id":                      func(e *Event) string { return e.User.ID },
	"user.upn":                     func(e *Event) string { return e.User.UPN },
	"user.logon_id":                func(e *Event) string { return e.User.LogonID },
	"user.is_machine":              func(e *Event) string { return boolStr(e.User.IsMachine) },
	"user.is_dc":                   func(e *Event) string { return boolStr(e.User.IsDC) },
	"user.tags":                    func(e *Event) string { return strings.Join(e.User.Tags, ",") },
	"source.ip":                    func(e *Event) string { return e.Source.IP },
	"source.port":                  func(e *Event) string { return intStr(e.Source.Port) },
	"source.hostname":              func(e *Event) string { return e.Source.Hostname },
	"source.is_dc":                 func(e *Event) string { return boolStr(e.Source.IsDC) },
	"destination.ip":               func(e *Event) string { return e.Destination.IP },
	"destination.port":             func(e *Event) string { return intStr(e.Destination.Port) },
	"destination.hostname":         func(e *Event) string { return e.Destination.Hostname },
	"destination.is_dc":            func(e *Event) string { return boolStr(e.Destination.IsDC) },
	"target.user.name":             func(e *Event) string { return e.Target.User.Name },
	"target.user.domain":           func(e *Event) string { return e.Target.User.Domain },
	"target.user.id":               func(e *Event) string { return e.Target.User.ID },
	"target.user.upn":              func(e *Event) string { return e.Target.User.UPN },
	"target.user.is_machine":       func(e *Event) string { return boolStr(e.Target.User.IsMachine) },
	"target.user.is_dc":            func(e *Event) string { return boolStr(e.Target.User.IsDC) },
	"target.user.logon_id":         func(e *Event) string { return e.Target.User.LogonID },
	"target.user.tags":             func(e *Event) string { return strings.Join(e.Target.User.Tags, ",") },
	"target.group.name":            func(e *Event) string { return e.Target.Group.Name },
	"target.group.domain":          func(e *Event) string { return e.Target.Group.Domain },
	"target.group.id":              func(e *Event) string { return e.Target.Group.ID },
	"target.service":               func(e *Event) string { return e.Target.Service },
	"target.is_machine":            func(e *Event) string { return boolStr(e.Target.IsMachine) },
	"auth.protocol":                func(e *Event) string { return e.Auth.Protocol },
	"auth.logon_type":              func(e *Event) string { return intStr(e.Auth.LogonType) },
	"auth.package":                 func(e *Event) string { return e.Auth.Package },
	"auth.process":                 func(e *Event) string { return e.Auth.Process },
	"auth.failure_code":            func(e *Event) string { return e.Auth.FailureCode },
	"auth.kerberos.etype":          func(e *Event) string { return e.Auth.Kerberos.Etype },
	"auth.kerberos.preauth_type":   func(e *Event) string { return e.Auth.Kerberos.PreauthType },
	"auth.kerberos.ticket_options": func(e *Event) string { return e.Auth.Kerberos.TicketOptions },
	"auth.kerberos.status":         func(e *Event) string { return e.Auth.Kerberos.Status },
	"auth.ntlm.version":            func(e *Event) string { return e.Auth.NTLM.Version },
	"auth.ntlm.workstation":        func(e *Event) string { return e.Auth.NTLM.Workstation },
	"directory.object.dn":          func(e *Event) string { return e.Directory.Object.DN },
	"directory.object.class":       func(e *Event) string { return e.Directory.Object.Class },
	"directory.object.guid":        func(e *Event) string { return e.Directory.Object.GUID },
	"directory.object.name":        func(e *Event) string { return e.Directory.Object.Name },
	"directory.attribute":          func(e *Event) string { return e.Directory.Attribute },
	"directory.operation":          func(e *Event) string { return e.Directory.Operation },
	"directory.old_value":          func(e *Event) string { return e.Directory.OldValue },
	"directory.new_value":          func(e *Event) string { return e.Directory.NewValue },
	"directory.properties":         func(e *Event) string { return e.Directory.Properties },
	"directory.access_mask":        func(e *Event) string { return e.Directory.AccessMask },
	"service.name":                 func(e *Event) string { return e.Service.Name },
	"service.file":                 func(e *Event) string { return e.Service.File },
	"service.type":                 func(e *Event) string { return e.Service.Type },
	"service.start_type":           func(e *Event) string { return e.Service.StartType },
	"service.account":              func(e *Event) string { return e.Service.Account },
	"cloud.app":                    func(e *Event) string { return e.Cloud.App },
	"cloud.app_id":                 func(e *Event) string { return e.Cloud.AppID },
	"cloud.client_app":             func(e *Event) string { return e.Cloud.ClientApp },
	"cloud.risk_level":             func(e *Event) string { return e.Cloud.RiskLevel },
	"cloud.risk_state":             func(e *Event) string { return e.Cloud.RiskState },
	"cloud.risk_event_type":        func(e *Event) string { return e.Cloud.RiskEventType },
	"cloud.ca_status":              func(e *Event) string { return e.Cloud.CAStatus },
	"cloud.country":                func(e *Event) string { return e.Cloud.Country },
	"cloud.city":                   func(e *Event) string { return e.Cloud.City },
	"cloud.latitude":               func(e *Event) string { return floatStr(e.Cloud.Latitude) },
	"cloud.longitude":              func(e *Event) string { return floatStr(e.Cloud.Longitude) },
	"cloud.category":               func(e *Event) string { return e.Cloud.Category },
	"cloud.operation":              func(e *Event) string { return e.Cloud.Operation },
	"cloud.correlation_id":         func(e *Event) string { return e.Cloud.CorrelationID },
	"cloud.is_interactive":         func(e *Event) string { return boolStr(e.Cloud.IsInteractive) },
	"cloud.on_prem_sid":            func(e *Event) string { return e.Cloud.OnPremSID },
	"cloud.tenant_id":              func(e *Event) string { return e.Cloud.TenantID },
	"cloud.error_code":             func(e *Event) string { return intStr(e.Cloud.ErrorCode) },
	"cloud.user_agent":             func(e *Event) string { return e.Cloud.UserAgent },
	"cloud.device_id":              func(e *Event) string { return e.Cloud.DeviceID },
	"cloud.device_compliant":       func(e *Event) string { return boolStr(e.Cloud.DeviceCompliant) },
	"rpc.interface":                func(e *Event) string { return e.RPC.Interface },
	"rpc.interface_uuid":           func(e *Event) string { return e.RPC.InterfaceUUID },
	"rpc.interface_version":        func(e *Event) string { return e.RPC.InterfaceVersion },
	"rpc.opnum":                    func(e *Event) string { return e.RPC.Opnum },
	"rpc.operation":                func(e *Event) string { return e.RPC.Operation },
	"rpc.pipe":                     func(e *Event) string { return e.RPC.Pipe },
	"rpc.transport":                func(e *Event) string { return e.RPC.Transport },
	"rpc.auth_level":               func(e *Event) string { return e.RPC.AuthLevel },
	"rpc.status":                   func(e *Event) string { return e.RPC.Status },
	"rpc.return_value":             func(e *Event) string { return e.RPC.ReturnValue },
	"dns.question.name":            func(e *Event) string { return e.DNS.Question.Name },
	"dns.question.type":            func(e *Event) string { return e.DNS.Question.Type },
	"dns.response_code":            func(e *Event) string { return e.DNS.ResponseCode },
	"dns.zone_transfer":            func(e *Event) string { return boolStr(e.DNS.ZoneTransfer) },
	"dns.answers_count":            func(e *Event) string { return intStr(e.DNS.AnswersCount) },
}
