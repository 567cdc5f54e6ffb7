package schema

import "time"

// Incident is a set of alerts about the same identity (account or source
// host) within the correlation window.
type Incident struct {
	ID string `json:"id"`
	// Version grows by one each time the incident changes and is re-emitted.
	Version   int       `json:"version"`
	Timestamp time.Time `json:"@timestamp"` // time of this version (last evidence)
	Status    string    `json:"status"`     // open | closed | merged
	// MergedInto names the incident this one was merged into (status merged).
	MergedInto string         `json:"merged_into,omitempty"`
	Title      string         `json:"title"`
	Severity   Severity       `json:"severity"`
	RiskScore  int            `json:"risk_score"`
	FirstSeen  time.Time      `json:"first_seen"`
	LastSeen   time.Time      `json:"last_seen"`
	Threat     IncidentThreat `json:"threat"`
	Entities   Entities       `json:"entities"`
	// Alerts are the member alerts in time order.
	Alerts []AlertRef `json:"alerts"`
	// Priority is the investigation priority of the incident's identities
	// (highest score first), when scoring is on.
	Priority []IdentityPriority `json:"priority,omitempty"`
}

// IdentityPriority is one identity's investigation priority score: the sum
// of its alert and abnormal-activity points over the scoring window, its
// percentile among every scored identity, and the factors that make it up.
type IdentityPriority struct {
	Identity string `json:"identity"`
	Score    int    `json:"score"`
	// Percentile is the share of scored identities whose score is lower or
	// equal, 0–100 (MDI shows red at 90 and above).
	Percentile int `json:"percentile"`
	// Factors explain the score, largest contribution first.
	Factors []PriorityFactor `json:"factors,omitempty"`
}

// PriorityFactor is one contribution to a priority score: the alerts of one
// rule at one severity.
type PriorityFactor struct {
	// Kind is "alert", or "activity" for abnormal-activity rules (new
	// values, impossible travel, …).
	Kind      string    `json:"kind"`
	RuleID    string    `json:"rule_id"`
	Title     string    `json:"title"`
	Severity  Severity  `json:"severity"`
	Technique string    `json:"technique,omitempty"`
	Count     int       `json:"count"`
	Points    int       `json:"points"`
	LastSeen  time.Time `json:"last_seen"`
}

// Incident statuses.
const (
	IncidentOpen   = "open"
	IncidentClosed = "closed"
	IncidentMerged = "merged"
)

// IncidentThreat lists the tactics (kill-chain order) and techniques seen.
type IncidentThreat struct {
	Framework  string      `json:"framework"`
	Tactics    []Tactic    `json:"tactic"`
	Techniques []Technique `json:"technique"`
}

// Entities are the identities and hosts an incident involves, sorted.
type Entities struct {
	Users []string `json:"users,omitempty"`
	Hosts []string `json:"hosts,omitempty"`
	IPs   []string `json:"ips,omitempty"`
}

// AlertRef is an alert as listed inside an incident.
type AlertRef struct {
	ID        string   `json:"id"`
	RuleID    string   `json:"rule_id"`
	Title     string   `json:"title"`
	Severity  Severity `json:"severity"`
	Technique string   `json:"technique"`
	Tactic    string   `json:"tactic"`
	// User is the alert's acting identity (DOMAIN\name, UPN or SID), when
	// it has one: the incident's primary identity is its most frequent actor.
	User      string    `json:"user,omitempty"`
	Timestamp time.Time `json:"@timestamp"`
}

// IncidentID is the stable id of an incident: the id of its first alert.
func IncidentID(firstAlertID string) string { return StableID("incident", firstAlertID) }

type incidentJSON Incident

// MarshalJSON adds "kind":"incident".
func (i Incident) MarshalJSON() ([]byte, error) { return marshalKind(RecordIncident, incidentJSON(i)) }
