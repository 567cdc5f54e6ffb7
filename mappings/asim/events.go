package asim

import (
	"strconv"
	"strings"
	"time"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// ASIM schema names and versions written in EventSchema and
// EventSchemaVersion.
const (
	SchemaAuthentication        = "Authentication"
	SchemaAuthenticationVersion = "0.1.3"
	SchemaAudit                 = "AuditEvent"
	SchemaAuditVersion          = "0.1"
)

// EventRow is one row of CastellanEvents_CL: an identity event shaped after
// the ASIM Authentication schema (logons, Kerberos, NTLM, LDAP binds, cloud
// sign-ins) or the ASIM AuditEvent schema (directory and account changes,
// replication, service installs, log clearing, cloud audit and risk);
// EventSchema says which. Fields ASIM has no name for (Kerberos and NTLM
// details, groups, services) are extra columns; the untouched source fields
// are in AdditionalFields. Empty values are omitted (null in the table).
type EventRow struct {
	TimeGenerated              time.Time `json:"TimeGenerated"`
	EventId                    string    `json:"EventId"`
	EventSchema                string    `json:"EventSchema"`
	EventSchemaVersion         string    `json:"EventSchemaVersion"`
	EventCount                 int       `json:"EventCount"`
	EventStartTime             time.Time `json:"EventStartTime"`
	EventEndTime               time.Time `json:"EventEndTime"`
	EventType                  string    `json:"EventType"`
	EventSubType               string    `json:"EventSubType,omitempty"`
	EventResult                string    `json:"EventResult"`
	EventResultDetails         string    `json:"EventResultDetails,omitempty"`
	EventOriginalResultDetails string    `json:"EventOriginalResultDetails,omitempty"`
	EventSeverity              string    `json:"EventSeverity"`
	EventOriginalType          string    `json:"EventOriginalType,omitempty"`
	EventOriginalUid           string    `json:"EventOriginalUid,omitempty"`
	EventKind                  string    `json:"EventKind"`
	EventAction                string    `json:"EventAction,omitempty"`
	EventProduct               string    `json:"EventProduct"`
	EventVendor                string    `json:"EventVendor"`
	EventSource                string    `json:"EventSource,omitempty"` // event.dataset: winjson, evtx, samba, entra, …
	EventProvider              string    `json:"EventProvider,omitempty"`
	EventChannel               string    `json:"EventChannel,omitempty"`

	Dvc          string `json:"Dvc,omitempty"`
	DvcHostname  string `json:"DvcHostname,omitempty"`
	DvcDomain    string `json:"DvcDomain,omitempty"`
	DvcIpAddr    string `json:"DvcIpAddr,omitempty"`
	LogonMethod  string `json:"LogonMethod,omitempty"`
	LogonProto   string `json:"LogonProtocol,omitempty"`
	LogonTypeId  int    `json:"LogonTypeId,omitempty"` // Windows logon type
	AuthPackage  string `json:"AuthPackage,omitempty"`
	LogonProcess string `json:"LogonProcess,omitempty"`

	TargetUsername     string   `json:"TargetUsername,omitempty"`
	TargetUsernameType string   `json:"TargetUsernameType,omitempty"`
	TargetUserId       string   `json:"TargetUserId,omitempty"`
	TargetUserIdType   string   `json:"TargetUserIdType,omitempty"`
	TargetUserUpn      string   `json:"TargetUserUpn,omitempty"`
	TargetUserType     string   `json:"TargetUserType,omitempty"`
	TargetUserTags     []string `json:"TargetUserTags,omitempty"`
	TargetSessionId    string   `json:"TargetSessionId,omitempty"`

	ActorUsername     string   `json:"ActorUsername,omitempty"`
	ActorUsernameType string   `json:"ActorUsernameType,omitempty"`
	ActorUserId       string   `json:"ActorUserId,omitempty"`
	ActorUserIdType   string   `json:"ActorUserIdType,omitempty"`
	ActorUserUpn      string   `json:"ActorUserUpn,omitempty"`
	ActorUserType     string   `json:"ActorUserType,omitempty"`
	ActorUserTags     []string `json:"ActorUserTags,omitempty"`
	ActorSessionId    string   `json:"ActorSessionId,omitempty"`

	SrcIpAddr            string `json:"SrcIpAddr,omitempty"`
	SrcPortNumber        int    `json:"SrcPortNumber,omitempty"`
	SrcHostname          string `json:"SrcHostname,omitempty"`
	SrcGeoCountry        string `json:"SrcGeoCountry,omitempty"`
	SrcGeoCity           string `json:"SrcGeoCity,omitempty"`
	SrcOriginalRiskLevel string `json:"SrcOriginalRiskLevel,omitempty"`
	TargetIpAddr         string `json:"TargetIpAddr,omitempty"`
	TargetPortNumber     int    `json:"TargetPortNumber,omitempty"`
	TargetHostname       string `json:"TargetHostname,omitempty"`

	TargetAppName string `json:"TargetAppName,omitempty"`
	TargetAppId   string `json:"TargetAppId,omitempty"`
	TargetAppType string `json:"TargetAppType,omitempty"`
	HttpUserAgent string `json:"HttpUserAgent,omitempty"`

	KerberosEncryptionType string `json:"KerberosEncryptionType,omitempty"`
	KerberosPreAuthType    string `json:"KerberosPreAuthType,omitempty"`
	KerberosTicketOptions  string `json:"KerberosTicketOptions,omitempty"`
	KerberosStatus         string `json:"KerberosStatus,omitempty"`
	NtlmVersion            string `json:"NtlmVersion,omitempty"`
	NtlmWorkstation        string `json:"NtlmWorkstation,omitempty"`

	Operation        string `json:"Operation,omitempty"`
	Object           string `json:"Object,omitempty"`
	ObjectType       string `json:"ObjectType,omitempty"`
	ObjectClass      string `json:"ObjectClass,omitempty"`
	ObjectGuid       string `json:"ObjectGuid,omitempty"`
	ObjectAttribute  string `json:"ObjectAttribute,omitempty"`
	OldValue         string `json:"OldValue,omitempty"`
	NewValue         string `json:"NewValue,omitempty"`
	ObjectProperties string `json:"ObjectProperties,omitempty"`
	AccessMask       string `json:"AccessMask,omitempty"`
	GroupName        string `json:"GroupName,omitempty"`
	GroupId          string `json:"GroupId,omitempty"`
	ServiceName      string `json:"ServiceName,omitempty"`
	ServiceFileName  string `json:"ServiceFileName,omitempty"`
	ServiceAccount   string `json:"ServiceAccount,omitempty"`
	ServiceStartType string `json:"ServiceStartType,omitempty"`

	CloudTenantId        string `json:"CloudTenantId,omitempty"`
	CloudCorrelationId   string `json:"CloudCorrelationId,omitempty"`
	CloudClientApp       string `json:"CloudClientApp,omitempty"`
	CloudCategory        string `json:"CloudCategory,omitempty"`
	CloudRiskState       string `json:"CloudRiskState,omitempty"`
	CloudRiskEventType   string `json:"CloudRiskEventType,omitempty"`
	CloudCAStatus        string `json:"CloudCAStatus,omitempty"`
	CloudDeviceId        string `json:"CloudDeviceId,omitempty"`
	CloudDeviceCompliant bool   `json:"CloudDeviceCompliant,omitempty"`
	CloudIsInteractive   bool   `json:"CloudIsInteractive,omitempty"`

	AdditionalFields map[string]string `json:"AdditionalFields,omitempty"`
}

// authKinds are the event kinds written as ASIM Authentication rows.
var authKinds = map[schema.EventKind]bool{
	schema.KindLogon: true, schema.KindLogonFailure: true, schema.KindKerberosTGT: true,
	schema.KindKerberosServiceTicket: true, schema.KindKerberosPreauthFail: true,
	schema.KindNTLMAuth: true, schema.KindLDAPBind: true, schema.KindCloudSignin: true,
}

// FromEvent maps an event onto a CastellanEvents_CL row. In an
// Authentication row the target user is the account that authenticated
// (Event.User); in an AuditEvent row the actor is Event.User and the target
// is Event.Target.User.
func FromEvent(e *schema.Event) EventRow {
	ts := e.Timestamp.UTC()
	r := EventRow{
		TimeGenerated:     ts,
		EventId:           e.ID,
		EventCount:        1,
		EventStartTime:    ts,
		EventEndTime:      ts,
		EventResult:       result(e.Event.Outcome),
		EventSeverity:     "Informational",
		EventOriginalType: e.Event.Code,
		EventOriginalUid:  e.Event.RecordID,
		EventKind:         string(e.Event.Kind),
		EventAction:       e.Event.Action,
		EventProduct:      Product,
		EventVendor:       Vendor,
		EventSource:       e.Event.Dataset,
		EventProvider:     e.Event.Provider,
		EventChannel:      e.Event.Channel,

		Dvc:          firstNonEmpty(e.Host.Name, e.Host.IP),
		DvcHostname:  e.Host.Name,
		DvcDomain:    e.Host.Domain,
		DvcIpAddr:    e.Host.IP,
		LogonProto:   e.Auth.Protocol,
		LogonTypeId:  e.Auth.LogonType,
		AuthPackage:  e.Auth.Package,
		LogonProcess: e.Auth.Process,

		SrcIpAddr:            e.Source.IP,
		SrcPortNumber:        e.Source.Port,
		SrcHostname:          e.Source.Hostname,
		SrcGeoCountry:        e.Cloud.Country,
		SrcGeoCity:           e.Cloud.City,
		SrcOriginalRiskLevel: e.Cloud.RiskLevel,
		TargetIpAddr:         e.Destination.IP,
		TargetPortNumber:     e.Destination.Port,
		TargetHostname:       e.Destination.Hostname,
		HttpUserAgent:        e.Cloud.UserAgent,

		KerberosEncryptionType: e.Auth.Kerberos.Etype,
		KerberosPreAuthType:    e.Auth.Kerberos.PreauthType,
		KerberosTicketOptions:  e.Auth.Kerberos.TicketOptions,
		KerberosStatus:         e.Auth.Kerberos.Status,
		NtlmVersion:            e.Auth.NTLM.Version,
		NtlmWorkstation:        e.Auth.NTLM.Workstation,

		ObjectClass:      e.Directory.Object.Class,
		ObjectGuid:       e.Directory.Object.GUID,
		ObjectAttribute:  e.Directory.Attribute,
		OldValue:         e.Directory.OldValue,
		NewValue:         e.Directory.NewValue,
		ObjectProperties: e.Directory.Properties,
		AccessMask:       e.Directory.AccessMask,
		GroupName:        groupName(e.Target.Group),
		GroupId:          e.Target.Group.ID,
		ServiceName:      e.Service.Name,
		ServiceFileName:  e.Service.File,
		ServiceAccount:   e.Service.Account,
		ServiceStartType: e.Service.StartType,

		CloudTenantId:        e.Cloud.TenantID,
		CloudCorrelationId:   e.Cloud.CorrelationID,
		CloudClientApp:       e.Cloud.ClientApp,
		CloudCategory:        e.Cloud.Category,
		CloudRiskState:       e.Cloud.RiskState,
		CloudRiskEventType:   e.Cloud.RiskEventType,
		CloudCAStatus:        e.Cloud.CAStatus,
		CloudDeviceId:        e.Cloud.DeviceID,
		CloudDeviceCompliant: e.Cloud.DeviceCompliant,
		CloudIsInteractive:   e.Cloud.IsInteractive,

		AdditionalFields: e.Original,
	}
	failure := e.Auth.FailureCode
	if failure == "" && e.Cloud.ErrorCode != 0 {
		failure = strconv.Itoa(e.Cloud.ErrorCode)
	}
	if failure == "" && r.EventResult == "Failure" {
		failure = e.Auth.Kerberos.Status
	}
	if r.EventResult == "Failure" {
		r.EventOriginalResultDetails = firstNonEmpty(failure, e.Event.Reason)
		r.EventResultDetails = resultDetails(failure)
	}

	if authKinds[e.Event.Kind] {
		r.EventSchema, r.EventSchemaVersion = SchemaAuthentication, SchemaAuthenticationVersion
		r.EventType = "Logon"
		if e.Event.Kind == schema.KindLogonFailure || e.Event.Kind == schema.KindKerberosPreauthFail {
			r.EventResult = "Failure"
			if r.EventOriginalResultDetails == "" {
				r.EventOriginalResultDetails = firstNonEmpty(failure, e.Event.Reason)
				r.EventResultDetails = resultDetails(failure)
			}
		}
		r.EventSubType = logonSubType(e)
		r.LogonMethod = logonMethod(e)
		setTarget(&r, e.User)
		switch {
		case e.Target.Service != "":
			r.TargetAppName, r.TargetAppType = e.Target.Service, "Service"
		case e.Cloud.App != "" || e.Cloud.AppID != "":
			r.TargetAppName, r.TargetAppId, r.TargetAppType = e.Cloud.App, e.Cloud.AppID, "SaaS application"
		}
	} else {
		r.EventSchema, r.EventSchemaVersion = SchemaAudit, SchemaAuditVersion
		r.EventType = auditType(e)
		r.Operation = firstNonEmpty(e.Cloud.Operation, e.Directory.Operation, e.Event.Action, string(e.Event.Kind))
		r.Object, r.ObjectType = auditObject(e)
		setActor(&r, e.User)
		setTarget(&r, e.Target.User)
		if e.Cloud.App != "" || e.Cloud.AppID != "" {
			r.TargetAppName, r.TargetAppId, r.TargetAppType = e.Cloud.App, e.Cloud.AppID, "SaaS application"
		}
	}
	return r
}

func setTarget(r *EventRow, u schema.User) {
	r.TargetUsername, r.TargetUsernameType = username(u)
	r.TargetUserId, r.TargetUserIdType = userID(u.ID)
	r.TargetUserUpn = u.UPN
	r.TargetUserType = userType(u)
	r.TargetUserTags = u.Tags
	r.TargetSessionId = u.LogonID
}

func setActor(r *EventRow, u schema.User) {
	r.ActorUsername, r.ActorUsernameType = username(u)
	r.ActorUserId, r.ActorUserIdType = userID(u.ID)
	r.ActorUserUpn = u.UPN
	r.ActorUserType = userType(u)
	r.ActorUserTags = u.Tags
	r.ActorSessionId = u.LogonID
}

// username returns the ASIM username and its type: Windows (DOMAIN\name),
// UPN, or Simple.
func username(u schema.User) (string, string) {
	switch {
	case u.Name != "" && u.Domain != "":
		return u.Domain + `\` + u.Name, "Windows"
	case u.Name != "":
		return u.Name, "Simple"
	case u.UPN != "":
		return u.UPN, "UPN"
	}
	return "", ""
}

// userID returns the id and its ASIM type: SID for Windows SIDs, else AADID.
func userID(id string) (string, string) {
	switch {
	case id == "":
		return "", ""
	case strings.HasPrefix(id, "S-1-"):
		return id, "SID"
	default:
		return id, "AADID"
	}
}

func userType(u schema.User) string {
	switch {
	case u.Name == "" && u.UPN == "" && u.ID == "":
		return ""
	case u.IsMachine:
		return "Machine"
	default:
		return "Regular"
	}
}

func groupName(g schema.Group) string {
	if g.Name != "" && g.Domain != "" {
		return g.Domain + `\` + g.Name
	}
	return g.Name
}

func result(outcome string) string {
	switch outcome {
	case schema.OutcomeSuccess:
		return "Success"
	case schema.OutcomeFailure:
		return "Failure"
	default:
		return "NA"
	}
}

// resultDetails maps Windows NTSTATUS, Kerberos and Entra error codes onto
// ASIM EventResultDetails values.
func resultDetails(code string) string {
	switch strings.ToLower(code) {
	case "0xc0000064", "0x6", "50034":
		return "No such user"
	case "0xc000006a", "0x18", "50126":
		return "Incorrect password"
	case "0xc0000234", "50053":
		return "User locked"
	case "0xc0000072", "0x12", "50057":
		return "User disabled"
	case "0xc0000193", "50144":
		return "Account expired"
	case "0xc0000071", "0xc0000224", "0x17", "50055":
		return "Password expired"
	case "0xc000006f", "0xc0000070", "0xc000015b", "53003", "50076", "50074":
		return "Logon violates policy"
	case "0xc000006d":
		return "No such user or password"
	case "":
		return "Other"
	default:
		return "Other"
	}
}

// logonSubType maps Windows logon types (and Entra interactivity) onto ASIM
// EventSubType values.
func logonSubType(e *schema.Event) string {
	switch e.Auth.LogonType {
	case 2, 7, 11:
		return "Interactive"
	case 3, 8:
		return "Remote"
	case 4, 5:
		return "Service"
	case 10:
		return "RemoteInteractive"
	}
	if e.Event.Kind == schema.KindCloudSignin && e.Cloud.IsInteractive {
		return "Interactive"
	}
	return ""
}

// logonMethod is ASIM LogonMethod where the event tells it.
func logonMethod(e *schema.Event) string {
	switch e.Auth.Kerberos.PreauthType {
	case "15", "16", "17":
		return "PKI"
	case "2":
		return "Username & Password"
	}
	if e.Event.Kind == schema.KindNTLMAuth {
		return "Username & Password"
	}
	return ""
}

// auditType maps an audit-shaped event onto ASIM AuditEvent EventType.
func auditType(e *schema.Event) string {
	switch e.Event.Kind {
	case schema.KindLDAPSearch, schema.KindReplicationRequest:
		return "Read"
	case schema.KindServiceInstall:
		return "Install"
	case schema.KindLogCleared:
		return "Clear"
	case schema.KindAuditPolicyChange, schema.KindGroupMembershipChange:
		return "Set"
	}
	switch e.Directory.Operation {
	case "add":
		return "Create"
	case "delete":
		return "Delete"
	case "modify":
		return "Set"
	case "access":
		return "Read"
	}
	a := strings.ToLower(e.Event.Action + " " + e.Cloud.Operation)
	switch {
	case strings.Contains(a, "disable"):
		return "Disable"
	case strings.Contains(a, "enable"):
		return "Enable"
	case strings.Contains(a, "creat") || strings.Contains(a, "add"):
		return "Create"
	case strings.Contains(a, "delet") || strings.Contains(a, "remov"):
		return "Delete"
	case strings.Contains(a, "chang") || strings.Contains(a, "updat") || strings.Contains(a, "reset") || strings.Contains(a, "set"):
		return "Set"
	}
	return "Other"
}

// auditObject names the object an audit event acts on, with its ASIM
// ObjectType.
func auditObject(e *schema.Event) (string, string) {
	switch {
	case e.Directory.Object.DN != "" || e.Directory.Object.Name != "":
		return firstNonEmpty(e.Directory.Object.DN, e.Directory.Object.Name), "Directory Object"
	case e.Target.Group.Name != "" || e.Target.Group.ID != "":
		return firstNonEmpty(groupName(e.Target.Group), e.Target.Group.ID), "Group"
	case e.Service.Name != "":
		return e.Service.Name, "Service"
	case e.Target.User.Name != "" || e.Target.User.UPN != "" || e.Target.User.ID != "":
		return e.Target.User.Identity(), "User"
	case e.Event.Kind == schema.KindAuditPolicyChange:
		return "Audit Policy", "Policy Rule"
	case e.Event.Kind == schema.KindLogCleared:
		return firstNonEmpty(e.Event.Channel, "Event Log"), "Other"
	}
	return "", ""
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
