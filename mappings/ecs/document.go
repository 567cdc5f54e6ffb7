package ecs

import "time"

// Version is the ECS version the documents follow (ecs.version).
const Version = "8.17.0"

// Module is event.module of every document.
const Module = "castellan"

// Datasets (event.dataset and data_stream.dataset) by record kind.
const (
	DatasetEvent    = "castellan.event"
	DatasetAlert    = "castellan.alert"
	DatasetIncident = "castellan.incident"
	DatasetFinding  = "castellan.finding"
	DatasetAction   = "castellan.action"
)

// Document is one ECS document. Empty groups are omitted.
type Document struct {
	Timestamp   time.Time         `json:"@timestamp"`
	Message     string            `json:"message,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Tags        []string          `json:"tags,omitempty"`
	ECS         ECSMeta           `json:"ecs"`
	DataStream  DataStream        `json:"data_stream,omitzero"`
	Event       Event             `json:"event"`
	Rule        Rule              `json:"rule,omitzero"`
	Threat      Threat            `json:"threat,omitzero"`
	User        User              `json:"user,omitzero"`
	Source      Endpoint          `json:"source,omitzero"`
	Destination Endpoint          `json:"destination,omitzero"`
	Host        Host              `json:"host,omitzero"`
	Service     Service           `json:"service,omitzero"`
	Cloud       Cloud             `json:"cloud,omitzero"`
	UserAgent   UserAgent         `json:"user_agent,omitzero"`
	Related     Related           `json:"related,omitzero"`
	Castellan   Castellan         `json:"castellan,omitzero"`
}

// ECSMeta is the ecs.* group.
type ECSMeta struct {
	Version string `json:"version"`
}

// DataStream is data_stream.*: set for documents written to a data stream.
type DataStream struct {
	Type      string `json:"type,omitempty"`
	Dataset   string `json:"dataset,omitempty"`
	Namespace string `json:"namespace,omitempty"`
}

// Event is the ECS event.* group.
type Event struct {
	Kind      string     `json:"kind"`
	Category  []string   `json:"category,omitempty"`
	Type      []string   `json:"type,omitempty"`
	Outcome   string     `json:"outcome,omitempty"`
	Action    string     `json:"action,omitempty"`
	Code      string     `json:"code,omitempty"`
	ID        string     `json:"id,omitempty"`
	Reason    string     `json:"reason,omitempty"`
	Provider  string     `json:"provider,omitempty"`
	Module    string     `json:"module"`
	Dataset   string     `json:"dataset"`
	Severity  int        `json:"severity,omitempty"`
	RiskScore float64    `json:"risk_score,omitempty"`
	Start     *time.Time `json:"start,omitempty"`
	End       *time.Time `json:"end,omitempty"`
	Created   *time.Time `json:"created,omitempty"`
	Ingested  *time.Time `json:"ingested,omitempty"`
}

// Rule is the ECS rule.* group: the detection rule that fired.
type Rule struct {
	ID          string `json:"id,omitempty"`
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
	Category    string `json:"category,omitempty"`
	Ruleset     string `json:"ruleset,omitempty"`
}

// Threat is the ECS threat.* group. ECS keeps tactic and technique fields as
// parallel arrays.
type Threat struct {
	Framework string          `json:"framework,omitempty"`
	Tactic    ThreatRef       `json:"tactic,omitzero"`
	Technique ThreatTechnique `json:"technique,omitzero"`
}

// ThreatRef is an id/name/reference triple of parallel arrays.
type ThreatRef struct {
	ID        []string `json:"id,omitempty"`
	Name      []string `json:"name,omitempty"`
	Reference []string `json:"reference,omitempty"`
}

// ThreatTechnique is threat.technique.* with its sub-techniques.
type ThreatTechnique struct {
	ID           []string  `json:"id,omitempty"`
	Name         []string  `json:"name,omitempty"`
	Reference    []string  `json:"reference,omitempty"`
	Subtechnique ThreatRef `json:"subtechnique,omitzero"`
}

// User is the ECS user.* group, with user.target.* for the account acted
// upon.
type User struct {
	ID     string     `json:"id,omitempty"`
	Name   string     `json:"name,omitempty"`
	Domain string     `json:"domain,omitempty"`
	Email  string     `json:"email,omitempty"`
	Roles  []string   `json:"roles,omitempty"`
	Target UserTarget `json:"target,omitzero"`
}

// UserTarget is user.target.*.
type UserTarget struct {
	ID     string `json:"id,omitempty"`
	Name   string `json:"name,omitempty"`
	Domain string `json:"domain,omitempty"`
	Email  string `json:"email,omitempty"`
	Group  Group  `json:"group,omitzero"`
}

// Group is user.target.group.*.
type Group struct {
	ID     string `json:"id,omitempty"`
	Name   string `json:"name,omitempty"`
	Domain string `json:"domain,omitempty"`
}

// Endpoint is source.* or destination.*. Domain holds the client's
// workstation name, as Winlogbeat does.
type Endpoint struct {
	IP     string `json:"ip,omitempty"`
	Port   int    `json:"port,omitempty"`
	Domain string `json:"domain,omitempty"`
	Geo    Geo    `json:"geo,omitzero"`
}

// Geo is source.geo.*.
type Geo struct {
	CountryISOCode string `json:"country_iso_code,omitempty"`
	CityName       string `json:"city_name,omitempty"`
}

// Host is the ECS host.* group: the computer that logged the event.
type Host struct {
	Name     string `json:"name,omitempty"`
	Hostname string `json:"hostname,omitempty"`
	Domain   string `json:"domain,omitempty"`
	IP       string `json:"ip,omitempty"`
}

// Service is service.*: an installed service.
type Service struct {
	Name string `json:"name,omitempty"`
	Type string `json:"type,omitempty"`
}

// Cloud is cloud.*.
type Cloud struct {
	Provider string       `json:"provider,omitempty"`
	Account  CloudAccount `json:"account,omitzero"`
}

// CloudAccount is cloud.account.*.
type CloudAccount struct {
	ID string `json:"id,omitempty"`
}

// UserAgent is user_agent.*.
type UserAgent struct {
	Original string `json:"original,omitempty"`
}

// Related is related.*: pivot values.
type Related struct {
	User  []string `json:"user,omitempty"`
	IP    []string `json:"ip,omitempty"`
	Hosts []string `json:"hosts,omitempty"`
}

// Castellan holds what ECS has no field for, by record kind.
type Castellan struct {
	Kind      string            `json:"kind"` // the record kind: event, alert, incident, finding, action
	Event     CastellanEvent    `json:"event,omitzero"`
	User      CastellanUser     `json:"user,omitzero"`
	Target    CastellanTarget   `json:"target,omitzero"`
	Auth      CastellanAuth     `json:"auth,omitzero"`
	Directory CastellanDir      `json:"directory,omitzero"`
	Service   CastellanService  `json:"service,omitzero"`
	Cloud     CastellanCloud    `json:"cloud,omitzero"`
	Original  map[string]string `json:"original,omitempty"` // mapped as flattened
	Alert     CastellanAlert    `json:"alert,omitzero"`
	Incident  CastellanIncident `json:"incident,omitzero"`
	Finding   CastellanFinding  `json:"finding,omitzero"`
	Action    CastellanAction   `json:"action,omitzero"`
}

// CastellanEvent is castellan.event.*: the normalized event kind and where
// the record came from.
type CastellanEvent struct {
	Kind     string `json:"kind,omitempty"`
	Channel  string `json:"channel,omitempty"`
	RecordID string `json:"record_id,omitempty"`
	Source   string `json:"source,omitempty"` // transport: winjson, evtx, samba, ...
}

// CastellanUser is castellan.user.*: identity details of the acting user.
type CastellanUser struct {
	UPN       string   `json:"upn,omitempty"`
	LogonID   string   `json:"logon_id,omitempty"`
	IsMachine bool     `json:"is_machine,omitempty"`
	IsDC      bool     `json:"is_dc,omitempty"`
	Tags      []string `json:"tags,omitempty"`
}

// CastellanTarget is castellan.target.*.
type CastellanTarget struct {
	Service   string        `json:"service,omitempty"`
	IsMachine bool          `json:"is_machine,omitempty"`
	User      CastellanUser `json:"user,omitzero"`
}

// CastellanAuth is castellan.auth.*.
type CastellanAuth struct {
	Protocol    string `json:"protocol,omitempty"`
	LogonType   int    `json:"logon_type,omitempty"`
	Package     string `json:"package,omitempty"`
	Process     string `json:"process,omitempty"`
	FailureCode string `json:"failure_code,omitempty"`
	Kerberos    struct {
		Etype         string `json:"etype,omitempty"`
		PreauthType   string `json:"preauth_type,omitempty"`
		TicketOptions string `json:"ticket_options,omitempty"`
		Status        string `json:"status,omitempty"`
	} `json:"kerberos,omitzero"`
	NTLM struct {
		Version     string `json:"version,omitempty"`
		Workstation string `json:"workstation,omitempty"`
	} `json:"ntlm,omitzero"`
}

// CastellanDir is castellan.directory.*.
type CastellanDir struct {
	Object struct {
		DN    string `json:"dn,omitempty"`
		Class string `json:"class,omitempty"`
		GUID  string `json:"guid,omitempty"`
		Name  string `json:"name,omitempty"`
	} `json:"object,omitzero"`
	Attribute  string `json:"attribute,omitempty"`
	Operation  string `json:"operation,omitempty"`
	OldValue   string `json:"old_value,omitempty"`
	NewValue   string `json:"new_value,omitempty"`
	Properties string `json:"properties,omitempty"`
	AccessMask string `json:"access_mask,omitempty"`
}

// CastellanService is castellan.service.*: what service.* has no field for.
type CastellanService struct {
	File      string `json:"file,omitempty"`
	StartType string `json:"start_type,omitempty"`
	Account   string `json:"account,omitempty"`
}

// CastellanCloud is castellan.cloud.*: Entra sign-in, audit and risk details.
type CastellanCloud struct {
	App             string `json:"app,omitempty"`
	AppID           string `json:"app_id,omitempty"`
	ClientApp       string `json:"client_app,omitempty"`
	RiskLevel       string `json:"risk_level,omitempty"`
	RiskState       string `json:"risk_state,omitempty"`
	RiskEventType   string `json:"risk_event_type,omitempty"`
	CAStatus        string `json:"ca_status,omitempty"`
	Category        string `json:"category,omitempty"`
	Operation       string `json:"operation,omitempty"`
	CorrelationID   string `json:"correlation_id,omitempty"`
	IsInteractive   bool   `json:"is_interactive,omitempty"`
	OnPremSID       string `json:"on_prem_sid,omitempty"`
	ErrorCode       int    `json:"error_code,omitempty"`
	DeviceID        string `json:"device_id,omitempty"`
	DeviceCompliant bool   `json:"device_compliant,omitempty"`
}

// CastellanAlert is castellan.alert.*.
type CastellanAlert struct {
	RuleKind string            `json:"rule_kind,omitempty"`
	MDI      []int             `json:"mdi,omitempty"`
	Severity string            `json:"severity,omitempty"`
	Count    int               `json:"count,omitempty"`
	EventIDs []string          `json:"event_ids,omitempty"`
	Values   []string          `json:"values,omitempty"`
	GroupKey map[string]string `json:"group_key,omitempty"` // mapped as flattened
}

// CastellanIncident is castellan.incident.*.
type CastellanIncident struct {
	ID         string             `json:"id,omitempty"`
	Version    int                `json:"version,omitempty"`
	Status     string             `json:"status,omitempty"`
	MergedInto string             `json:"merged_into,omitempty"`
	Severity   string             `json:"severity,omitempty"`
	AlertCount int                `json:"alert_count,omitempty"`
	Alerts     []IncidentAlert    `json:"alerts,omitempty"`
	Entities   IncidentEntities   `json:"entities,omitzero"`
	Tactics    []string           `json:"tactics,omitempty"`
	Techniques []string           `json:"techniques,omitempty"`
	Priority   []IncidentPriority `json:"priority,omitempty"`
}

// IncidentPriority is castellan.incident.priority[]: one identity's
// investigation priority score, percentile and the factors behind it.
type IncidentPriority struct {
	Identity   string           `json:"identity"`
	Score      int              `json:"score,omitempty"`
	Percentile int              `json:"percentile,omitempty"`
	Factors    []PriorityFactor `json:"factors,omitempty"`
}

// PriorityFactor is one factor of an IncidentPriority.
type PriorityFactor struct {
	Kind      string `json:"kind,omitempty"`
	RuleID    string `json:"rule_id,omitempty"`
	Severity  string `json:"severity,omitempty"`
	Technique string `json:"technique,omitempty"`
	Count     int    `json:"count,omitempty"`
	Points    int    `json:"points,omitempty"`
}

// IncidentAlert is one member alert inside castellan.incident.alerts.
type IncidentAlert struct {
	ID        string    `json:"id"`
	RuleID    string    `json:"rule_id,omitempty"`
	Title     string    `json:"title,omitempty"`
	Severity  string    `json:"severity,omitempty"`
	Technique string    `json:"technique,omitempty"`
	Tactic    string    `json:"tactic,omitempty"`
	User      string    `json:"user,omitempty"` // the alert's acting identity
	Timestamp time.Time `json:"@timestamp"`
}

// IncidentEntities is castellan.incident.entities.*.
type IncidentEntities struct {
	Users []string `json:"users,omitempty"`
	Hosts []string `json:"hosts,omitempty"`
	IPs   []string `json:"ips,omitempty"`
}

// CastellanFinding is castellan.finding.*.
type CastellanFinding struct {
	AssessmentID string   `json:"assessment_id,omitempty"`
	Status       string   `json:"status,omitempty"`
	Severity     string   `json:"severity,omitempty"`
	Evidence     string   `json:"evidence,omitempty"`
	Entities     []string `json:"entities,omitempty"`
	Remediation  string   `json:"remediation,omitempty"`
}

// CastellanAction is castellan.action.*.
type CastellanAction struct {
	Type       string `json:"type,omitempty"`
	Mode       string `json:"mode,omitempty"`
	Trigger    string `json:"trigger,omitempty"`
	IncidentID string `json:"incident_id,omitempty"`
	Result     string `json:"result,omitempty"`
	Reason     string `json:"reason,omitempty"`
	Before     string `json:"before,omitempty"`
	After      string `json:"after,omitempty"`
}
