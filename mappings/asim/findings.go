package asim

import (
	"time"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// FindingRow is one row of CastellanFindings_CL: one identity-posture
// finding (one affected entity of a failed assessment, or an assessment's
// passed or error status). Evidence says how the weakness was detected;
// Entities are the affected objects (DNs, UPNs or SIDs).
type FindingRow struct {
	TimeGenerated     time.Time `json:"TimeGenerated"`
	EventId           string    `json:"EventId"`
	EventProduct      string    `json:"EventProduct"`
	EventVendor       string    `json:"EventVendor"`
	AssessmentId      string    `json:"AssessmentId"`
	Title             string    `json:"Title"`
	Status            string    `json:"Status"`
	Severity          string    `json:"Severity"`
	CastellanSeverity string    `json:"CastellanSeverity"`
	RiskScore         int       `json:"RiskScore"`
	Evidence          string    `json:"Evidence,omitempty"`
	Entity            string    `json:"Entity,omitempty"`
	Entities          []string  `json:"Entities,omitempty"`
	Remediation       string    `json:"Remediation,omitempty"`
	TacticIds         string    `json:"TacticIds,omitempty"`
	Techniques        string    `json:"Techniques,omitempty"`
	TechniqueNames    string    `json:"TechniqueNames,omitempty"`
}

// FromFinding maps a posture finding onto a CastellanFindings_CL row.
// Entity is the first affected entity, for KQL joins and entity mapping.
func FromFinding(f *schema.Finding) FindingRow {
	r := FindingRow{
		TimeGenerated:     f.Timestamp.UTC(),
		EventId:           f.ID,
		EventProduct:      Product,
		EventVendor:       Vendor,
		AssessmentId:      f.AssessmentID,
		Title:             f.Title,
		Status:            f.Status,
		Severity:          Severity(f.Severity),
		CastellanSeverity: f.Severity.String(),
		RiskScore:         f.Severity.RiskScore(),
		Evidence:          f.Evidence,
		Entities:          f.Entities,
		Remediation:       f.Remediation,
		TacticIds:         f.Threat.Tactic.ID,
		Techniques:        f.Threat.Technique.ID,
		TechniqueNames:    f.Threat.Technique.Name,
	}
	if len(f.Entities) > 0 {
		r.Entity = f.Entities[0]
	}
	return r
}
