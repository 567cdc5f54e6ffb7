package asim

import (
	"fmt"
	"strings"
	"time"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// IncidentRow is one row of CastellanIncidents_CL: one version of an
// incident. Each change of an incident is written again with a higher
// Version; queries take arg_max(Version, *) by EventId (the incident id).
// Users, IPs and Hosts are dynamic arrays; Tactics are Sentinel tactic
// names, Techniques ATT&CK ids.
type IncidentRow struct {
	TimeGenerated     time.Time `json:"TimeGenerated"`
	EventId           string    `json:"EventId"`
	EventProduct      string    `json:"EventProduct"`
	EventVendor       string    `json:"EventVendor"`
	Version           int       `json:"Version"`
	Status            string    `json:"Status"`
	MergedInto        string    `json:"MergedInto,omitempty"`
	Title             string    `json:"Title"`
	Description       string    `json:"Description"`
	Severity          string    `json:"Severity"`
	CastellanSeverity string    `json:"CastellanSeverity"`
	RiskScore         int       `json:"RiskScore"`
	Tactics           []string  `json:"Tactics"`
	TacticIds         []string  `json:"TacticIds"`
	Techniques        []string  `json:"Techniques"`
	Users             []string  `json:"Users"`
	IPs               []string  `json:"IPs"`
	Hosts             []string  `json:"Hosts"`
	AlertIds          []string  `json:"AlertIds"`
	AlertCount        int       `json:"AlertCount"`
	RuleIds           []string  `json:"RuleIds"`
	FirstSeen         time.Time `json:"FirstSeen,omitzero"`
	LastSeen          time.Time `json:"LastSeen,omitzero"`
	// PriorityScore is the highest investigation priority score among the
	// incident's identities; Priority lists them all (identity, score,
	// percentile, factors), a dynamic array.
	PriorityScore int                       `json:"PriorityScore"`
	Priority      []schema.IdentityPriority `json:"Priority"`
}

// FromIncident maps an incident onto a CastellanIncidents_CL row. Array
// columns are always arrays (never null), so KQL can index them.
func FromIncident(in *schema.Incident) IncidentRow {
	r := IncidentRow{
		TimeGenerated:     in.Timestamp.UTC(),
		EventId:           in.ID,
		EventProduct:      Product,
		EventVendor:       Vendor,
		Version:           in.Version,
		Status:            in.Status,
		MergedInto:        in.MergedInto,
		Title:             in.Title,
		Severity:          Severity(in.Severity),
		CastellanSeverity: in.Severity.String(),
		RiskScore:         in.RiskScore,
		Tactics:           make([]string, 0, len(in.Threat.Tactics)),
		TacticIds:         make([]string, 0, len(in.Threat.Tactics)),
		Techniques:        make([]string, 0, len(in.Threat.Techniques)),
		Users:             nonNil(in.Entities.Users),
		IPs:               nonNil(in.Entities.IPs),
		Hosts:             nonNil(in.Entities.Hosts),
		AlertIds:          make([]string, 0, len(in.Alerts)),
		AlertCount:        len(in.Alerts),
		RuleIds:           []string{},
		FirstSeen:         in.FirstSeen.UTC(),
		LastSeen:          in.LastSeen.UTC(),
		Priority:          in.Priority,
	}
	if r.Priority == nil {
		r.Priority = []schema.IdentityPriority{}
	}
	for _, p := range in.Priority {
		r.PriorityScore = max(r.PriorityScore, p.Score)
	}
	for _, t := range in.Threat.Tactics {
		r.Tactics = appendNonEmpty(r.Tactics, TacticName(t))
		r.TacticIds = appendNonEmpty(r.TacticIds, t.ID)
	}
	for _, t := range in.Threat.Techniques {
		r.Techniques = appendNonEmpty(r.Techniques, t.ID)
	}
	for _, a := range in.Alerts {
		r.AlertIds = append(r.AlertIds, a.ID)
		r.RuleIds = appendNonEmpty(r.RuleIds, a.RuleID)
	}
	r.Description = describe(in)
	return r
}

// describe is a one-paragraph summary for the Sentinel incident.
func describe(in *schema.Incident) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d alert(s)", len(in.Alerts))
	if len(in.Entities.Users) > 0 {
		fmt.Fprintf(&b, " involving %s", strings.Join(in.Entities.Users, ", "))
	}
	if len(in.Threat.Techniques) > 0 {
		ids := make([]string, 0, len(in.Threat.Techniques))
		for _, t := range in.Threat.Techniques {
			if t.Name != "" {
				ids = append(ids, t.Name+" ("+t.ID+")")
			} else {
				ids = append(ids, t.ID)
			}
		}
		fmt.Fprintf(&b, "; techniques: %s", strings.Join(ids, ", "))
	}
	if !in.FirstSeen.IsZero() {
		fmt.Fprintf(&b, "; from %s to %s", in.FirstSeen.UTC().Format(time.RFC3339), in.LastSeen.UTC().Format(time.RFC3339))
	}
	if in.MergedInto != "" {
		fmt.Fprintf(&b, "; merged into %s", in.MergedInto)
	}
	b.WriteByte('.')
	return b.String()
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
