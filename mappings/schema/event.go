package schema

import (
	"time"
)

// EventKind is the normalized kind of an identity event.
type EventKind string

// Event kinds. Every source maps its records onto one of these.
const (
	KindLogon                 EventKind = "logon"
	KindLogonFailure          EventKind = "logon_failure"
	KindKerberosTGT           EventKind = "kerberos_tgt"
	KindKerberosServiceTicket EventKind = "kerberos_service_ticket"
	KindKerberosPreauthFail   EventKind = "kerberos_preauth_failure"
	KindNTLMAuth              EventKind = "ntlm_auth"
	KindLDAPBind              EventKind = "ldap_bind"
	KindLDAPSearch            EventKind = "ldap_search"
	KindDirectoryChange       EventKind = "directory_change"
	KindGroupMembershipChange EventKind = "group_membership_change"
	KindAccountChange         EventKind = "account_change"
	KindReplicationRequest    EventKind = "replication_request"
	KindServiceInstall        EventKind = "service_install"
	KindAuditPolicyChange     EventKind = "audit_policy_change"
	KindLogCleared            EventKind = "log_cleared"
	KindCloudSignin           EventKind = "cloud_signin"
	KindCloudAudit            EventKind = "cloud_audit"
	KindCloudRisk             EventKind = "cloud_risk"
	// KindDirectoryIdentity is a directory's record of an identity (an
	// Entra user with its on-prem AD link), not an action: it feeds the
	// identity join; no rule matches it.
	KindDirectoryIdentity EventKind = "directory_identity"
	KindRPCCall           EventKind = "rpc_call"
	KindDNSQuery          EventKind = "dns_query"
	KindOther             EventKind = "other"
)

// EventKinds lists every kind, in documentation order.
var EventKinds = []EventKind{
	KindLogon, KindLogonFailure, KindKerberosTGT, KindKerberosServiceTicket,
	KindKerberosPreauthFail, KindNTLMAuth, KindLDAPBind, KindLDAPSearch,
	KindDirectoryChange, KindGroupMembershipChange, KindAccountChange,
	KindReplicationRequest, KindServiceInstall, KindAuditPolicyChange,
	KindLogCleared, KindCloudSignin, KindCloudAudit, KindCloudRisk, KindDirectoryIdentity,
	KindRPCCall, KindDNSQuery, KindOther,
}

// Outcome values for EventMeta.Outcome.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
	OutcomeUnknown = "unknown"
)

// Event is one normalized identity event. Sources fill what their record
// carries; empty groups are omitted from JSON.
type Event struct {
	ID        string    `json:"id"`
	Timestamp time.Time `json:"@timestamp"`
	Event     EventMeta `json:"event"`
	Host      Host      `json:"host,omitzero"`
	// User is the acting identity: the account that authenticated, or the
	// subject that performed a change.
	User        User      `json:"user,omitzero"`
	Source      Endpoint  `json:"source,omitzero"`
	Destination Endpoint  `json:"destination,omitzero"`
	Target      Target    `json:"target,omitzero"`
	Auth        Auth      `json:"auth,omitzero"`
	Directory   Directory `json:"directory,omitzero"`
	Service     Service   `json:"service,omitzero"`
	Cloud       Cloud     `json:"cloud,omitzero"`
	RPC         RPC       `json:"rpc,omitzero"`
	DNS         DNS       `json:"dns,omitzero"`
	// Original keeps the untouched source fields (Windows EventData names,
	// Graph property names) so rules written against raw names still match.
	Original map[string]string `json:"original,omitempty"`
}

// EventMeta describes the event itself.
type EventMeta struct {
	Kind     EventKind `json:"kind"`
	Code     string    `json:"code,omitempty"`     // source event id, e.g. "4769"
	Action   string    `json:"action,omitempty"`   // short verb phrase, e.g. "service-ticket-requested"
	Outcome  string    `json:"outcome,omitempty"`  // success | failure | unknown
	Provider string    `json:"provider,omitempty"` // e.g. Microsoft-Windows-Security-Auditing
	Channel  string    `json:"channel,omitempty"`  // e.g. Security
	Dataset  string    `json:"dataset,omitempty"`  // source type, e.g. winjson, evtx, samba
	RecordID string    `json:"record_id,omitempty"`
	Reason   string    `json:"reason,omitempty"` // failure reason text or status name
}

// Host is the computer that logged the event (usually a domain controller).
type Host struct {
	Name   string `json:"name,omitempty"`
	Domain string `json:"domain,omitempty"`
	IP     string `json:"ip,omitempty"`
	// IsDC is set by enrichment when the host is a configured domain controller.
	IsDC bool `json:"is_dc,omitempty"`
}

// User is an identity: on-prem account or cloud user.
type User struct {
	Name      string `json:"name,omitempty"`
	Domain    string `json:"domain,omitempty"`
	ID        string `json:"id,omitempty"` // SID or cloud object id
	UPN       string `json:"upn,omitempty"`
	LogonID   string `json:"logon_id,omitempty"`
	IsMachine bool   `json:"is_machine,omitempty"`
	// IsDC is set by enrichment when the account is a domain controller.
	IsDC bool `json:"is_dc,omitempty"`
	// Tags are enrichment labels such as "sensitive" or "honeytoken".
	Tags []string `json:"tags,omitempty"`
}

// Endpoint is a network party: the client (source) or server (destination).
type Endpoint struct {
	IP       string `json:"ip,omitempty"`
	Port     int    `json:"port,omitempty"`
	Hostname string `json:"hostname,omitempty"`
	// IsDC is set by enrichment when the address or host name is a
	// configured domain controller (network events: which side is a DC).
	IsDC bool `json:"is_dc,omitempty"`
}

// Target is what the event acts on: a user, a group, a service or an object.
type Target struct {
	User  User  `json:"user,omitzero"`
	Group Group `json:"group,omitzero"`
	// Service is the requested service name or SPN (4769 ServiceName).
	Service   string `json:"service,omitempty"`
	IsMachine bool   `json:"is_machine,omitempty"`
}

// Group identifies a security group.
type Group struct {
	Name   string `json:"name,omitempty"`
	Domain string `json:"domain,omitempty"`
	ID     string `json:"id,omitempty"`
}

// Auth holds authentication details.
type Auth struct {
	Protocol    string   `json:"protocol,omitempty"` // kerberos | ntlm | negotiate | ldap | oauth | ...
	LogonType   int      `json:"logon_type,omitempty"`
	Package     string   `json:"package,omitempty"`
	Process     string   `json:"process,omitempty"`
	FailureCode string   `json:"failure_code,omitempty"` // hex status, e.g. 0x18 or 0xc000006a
	Kerberos    Kerberos `json:"kerberos,omitzero"`
	NTLM        NTLM     `json:"ntlm,omitzero"`
}

// Kerberos holds Kerberos exchange details.
type Kerberos struct {
	// Etype is the ticket encryption type by name: rc4-hmac, aes256-cts-hmac-sha1-96, ...
	Etype         string `json:"etype,omitempty"`
	PreauthType   string `json:"preauth_type,omitempty"` // "0" means none (AS-REP roastable)
	TicketOptions string `json:"ticket_options,omitempty"`
	Status        string `json:"status,omitempty"` // result code, hex
}

// NTLM holds NTLM authentication details.
type NTLM struct {
	Version     string `json:"version,omitempty"` // v1 | v2 | lm
	Workstation string `json:"workstation,omitempty"`
}

// Directory holds a directory object access or change.
type Directory struct {
	Object    DirObject `json:"object,omitzero"`
	Attribute string    `json:"attribute,omitempty"`
	Operation string    `json:"operation,omitempty"` // add | delete | modify | access
	OldValue  string    `json:"old_value,omitempty"`
	NewValue  string    `json:"new_value,omitempty"`
	// Properties are the property / right GUIDs accessed (4662 Properties).
	Properties string `json:"properties,omitempty"`
	AccessMask string `json:"access_mask,omitempty"`
}

// DirObject is a directory object.
type DirObject struct {
	DN    string `json:"dn,omitempty"`
	Class string `json:"class,omitempty"`
	GUID  string `json:"guid,omitempty"`
	Name  string `json:"name,omitempty"`
}

// Service is an installed service (7045, 4697).
type Service struct {
	Name      string `json:"name,omitempty"`
	File      string `json:"file,omitempty"`
	Type      string `json:"type,omitempty"`
	StartType string `json:"start_type,omitempty"`
	Account   string `json:"account,omitempty"`
}

// Cloud holds Entra ID sign-in, audit and risk details.
type Cloud struct {
	App           string `json:"app,omitempty"`
	AppID         string `json:"app_id,omitempty"`
	ClientApp     string `json:"client_app,omitempty"`
	RiskLevel     string `json:"risk_level,omitempty"`
	RiskState     string `json:"risk_state,omitempty"`
	RiskEventType string `json:"risk_event_type,omitempty"`
	CAStatus      string `json:"ca_status,omitempty"`
	Country       string `json:"country,omitempty"`
	City          string `json:"city,omitempty"`
	// Latitude and Longitude are the sign-in's location.geoCoordinates in
	// decimal degrees; both 0 means unknown.
	Latitude        float64 `json:"latitude,omitempty"`
	Longitude       float64 `json:"longitude,omitempty"`
	Category        string  `json:"category,omitempty"`
	Operation       string  `json:"operation,omitempty"`
	CorrelationID   string  `json:"correlation_id,omitempty"`
	IsInteractive   bool    `json:"is_interactive,omitempty"`
	OnPremSID       string  `json:"on_prem_sid,omitempty"`
	TenantID        string  `json:"tenant_id,omitempty"`
	ErrorCode       int     `json:"error_code,omitempty"`
	UserAgent       string  `json:"user_agent,omitempty"`
	DeviceID        string  `json:"device_id,omitempty"`
	DeviceCompliant bool    `json:"device_compliant,omitempty"`
}

// RPC is one DCE/RPC call seen on the wire (netsensor).
type RPC struct {
	// Interface is the interface's short name: drsuapi, samr, lsarpc,
	// srvsvc, efsrpc, spoolss, netlogon, dnsserver, epmapper, … ("" when
	// the UUID is not a known one).
	Interface string `json:"interface,omitempty"`
	// InterfaceUUID is the bound interface UUID, lower-case.
	InterfaceUUID string `json:"interface_uuid,omitempty"`
	// InterfaceVersion is "major.minor".
	InterfaceVersion string `json:"interface_version,omitempty"`
	// Opnum is the operation number in decimal ("0" is a real opnum).
	Opnum string `json:"opnum,omitempty"`
	// Operation is the operation's name from the protocol spec, e.g.
	// DRSGetNCChanges ("" when unknown).
	Operation string `json:"operation,omitempty"`
	// Pipe is the SMB named pipe, lower-case without \PIPE\ (e.g.
	// "lsarpc"); empty over TCP.
	Pipe string `json:"pipe,omitempty"`
	// Transport is "tcp" (RPC over TCP) or "smb" (SMB2 named pipe).
	Transport string `json:"transport,omitempty"`
	// AuthLevel is the DCE/RPC authentication level: none, connect, call,
	// packet, integrity, privacy ("" when the call carries no verifier).
	AuthLevel string `json:"auth_level,omitempty"`
	// Status is the lower-case hex fault status when the server answered
	// with a fault PDU, e.g. 0x1c010002 (nca_s_op_rng_error) or 0x00000005.
	Status string `json:"status,omitempty"`
	// ReturnValue is the operation's return value (NTSTATUS, WERROR or
	// DWORD: the last four bytes of the response stub), lower-case hex,
	// when the response is not sealed (auth level below privacy).
	ReturnValue string `json:"return_value,omitempty"`
}

// DNS is one DNS query and its answer (netsensor).
type DNS struct {
	Question DNSQuestion `json:"question,omitzero"`
	// ResponseCode is the answer's RCODE by name: NOERROR, NXDOMAIN,
	// REFUSED, NOTAUTH, SERVFAIL, … ("" when no answer was seen).
	ResponseCode string `json:"response_code,omitempty"`
	// ZoneTransfer is set for AXFR and IXFR requests.
	ZoneTransfer bool `json:"zone_transfer,omitempty"`
	// AnswersCount is the number of answer records returned (summed over
	// the messages of a zone transfer).
	AnswersCount int `json:"answers_count,omitempty"`
}

// DNSQuestion is the first question of a DNS message.
type DNSQuestion struct {
	// Name is the queried name, lower-case, without the trailing dot.
	Name string `json:"name,omitempty"`
	// Type is the query type by name: A, AAAA, SRV, PTR, TXT, ANY, AXFR,
	// IXFR, … (TYPEnnn when unknown).
	Type string `json:"type,omitempty"`
}

// HasGeo reports whether the event carries a geo location (cloud.latitude
// and cloud.longitude not both 0).
func (c Cloud) HasGeo() bool { return c.Latitude != 0 || c.Longitude != 0 }

// MarshalJSON adds the record kind "event" so mixed JSON-lines streams are
// self-describing.
func (e Event) MarshalJSON() ([]byte, error) { return marshalKind("event", eventJSON(e)) }

type eventJSON Event

// Identity returns the best identity string of the acting user:
// DOMAIN\name, else name, else SID.
func (u User) Identity() string {
	switch {
	case u.Name != "" && u.Domain != "":
		return u.Domain + `\` + u.Name
	case u.Name != "":
		return u.Name
	case u.UPN != "":
		return u.UPN
	default:
		return u.ID
	}
}
