package asim

import (
	"time"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// AlertRow is one row of CastellanAlerts_CL: one firing of a detection
// rule. Severity is Sentinel's (High, Medium, Low, Informational);
// CastellanSeverity keeps the original name. Tactics are Sentinel tactic
// names (CredentialAccess), Techniques ATT&CK ids (T1558.003).
type AlertRow struct {
	TimeGenerated     time.Time         `json:"TimeGenerated"`
	EventId           string            `json:"EventId"`
	EventProduct      string            `json:"EventProduct"`
	EventVendor       string            `json:"EventVendor"`
	RuleId            string            `json:"RuleId"`
	RuleName          string            `json:"RuleName"`
	RuleDescription   string            `json:"RuleDescription,omitempty"`
	RuleKind          string            `json:"RuleKind,omitempty"`
	Severity          string            `json:"Severity"`
	CastellanSeverity string            `json:"CastellanSeverity"`
	RiskScore         int               `json:"RiskScore"`
	Description       string            `json:"Description"`
	Tactics           string            `json:"Tactics,omitempty"`
	TacticIds         string            `json:"TacticIds,omitempty"`
	Techniques        string            `json:"Techniques,omitempty"`
	TechniqueNames    string            `json:"TechniqueNames,omitempty"`
	User              string            `json:"User,omitempty"`
	UserId            string            `json:"UserId,omitempty"`
	UserUpn           string            `json:"UserUpn,omitempty"`
	SrcIpAddr         string            `json:"SrcIpAddr,omitempty"`
	SrcHostname       string            `json:"SrcHostname,omitempty"`
	DvcHostname       string            `json:"DvcHostname,omitempty"`
	TargetUsername    string            `json:"TargetUsername,omitempty"`
	TargetService     string            `json:"TargetService,omitempty"`
	Entities          Entities          `json:"Entities"`
	GroupKey          map[string]string `json:"GroupKey,omitempty"`
	FirstSeen         time.Time         `json:"FirstSeen,omitzero"`
	LastSeen          time.Time         `json:"LastSeen,omitzero"`
	EvidenceCount     int               `json:"EvidenceCount"`
	EvidenceEventIds  []string          `json:"EvidenceEventIds,omitempty"`
	DistinctValues    []string          `json:"DistinctValues,omitempty"`
}

// Entities is the dynamic Entities column of an alert row: every identity,
// address and host it names.
type Entities struct {
	Users    []string `json:"users,omitempty"`
	IPs      []string `json:"ips,omitempty"`
	Hosts    []string `json:"hosts,omitempty"`
	Services []string `json:"services,omitempty"`
}

// FromAlert maps an alert onto a CastellanAlerts_CL row.
func FromAlert(a *schema.Alert) AlertRow {
	r := AlertRow{
		TimeGenerated:     a.Timestamp.UTC(),
		EventId:           a.ID,
		EventProduct:      Product,
		EventVendor:       Vendor,
		RuleId:            a.Rule.ID,
		RuleName:          a.Rule.Title,
		RuleDescription:   a.Rule.Description,
		RuleKind:          a.Rule.Kind,
		Severity:          Severity(a.Severity),
		CastellanSeverity: a.Severity.String(),
		RiskScore:         a.RiskScore,
		Description:       firstNonEmpty(a.Message, a.Rule.Title),
		TacticIds:         a.Threat.Tactic.ID,
		Techniques:        a.Threat.Technique.ID,
		TechniqueNames:    a.Threat.Technique.Name,
		User:              a.User.Identity(),
		UserId:            a.User.ID,
		UserUpn:           a.User.UPN,
		SrcIpAddr:         a.Source.IP,
		SrcHostname:       a.Source.Hostname,
		DvcHostname:       a.Host.Name,
		TargetUsername:    a.Target.User.Identity(),
		TargetService:     a.Target.Service,
		GroupKey:          a.GroupKey,
		FirstSeen:         a.FirstSeen.UTC(),
		LastSeen:          a.LastSeen.UTC(),
		EvidenceCount:     a.Count,
		EvidenceEventIds:  a.EventIDs,
		DistinctValues:    a.Values,
	}
	if a.Threat.Tactic.ID != "" || a.Threat.Tactic.Name != "" {
		r.Tactics = TacticName(a.Threat.Tactic)
	}
	r.Entities.Users = appendNonEmpty(nil, r.User, r.TargetUsername)
	r.Entities.IPs = appendNonEmpty(nil, a.Source.IP, a.Host.IP)
	r.Entities.Hosts = appendNonEmpty(nil, a.Source.Hostname, a.Host.Name)
	r.Entities.Services = appendNonEmpty(nil, a.Target.Service)
	return r
}

// appendNonEmpty appends the non-empty values not yet in dst.
func appendNonEmpty(dst []string, vals ...string) []string {
next:
	for _, v := range vals {
		if v == "" {
			continue
		}
		for _, d := range dst {
			if d == v {
				continue next
			}
		}
		dst = append(dst, v)
	}
	return dst
}
