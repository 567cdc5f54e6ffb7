package schema

import "time"

// Alert is one firing of a detection rule.
type Alert struct {
	ID        string    `json:"id"`
	Timestamp time.Time `json:"@timestamp"` // when the rule fired (event time of the last evidence)
	Rule      RuleRef   `json:"rule"`
	Severity  Severity  `json:"severity"`
	RiskScore int       `json:"risk_score"`
	Message   string    `json:"message"`
	Threat    Threat    `json:"threat"`
	// Entities the alert is about; correlation joins alerts on them.
	User   User     `json:"user,omitzero"`
	Source Endpoint `json:"source,omitzero"`
	Host   Host     `json:"host,omitzero"`
	Target Target   `json:"target,omitzero"`
	// GroupKey is the rule's group_by values, for stateful rules.
	GroupKey  map[string]string `json:"group_key,omitempty"`
	FirstSeen time.Time         `json:"first_seen"`
	LastSeen  time.Time         `json:"last_seen"`
	// Count is the number of evidence events; EventIDs holds up to
	// MaxEvidence of them.
	Count    int      `json:"count"`
	EventIDs []string `json:"event_ids"`
	// Values are the distinct values counted by a distinct-count rule (capped).
	Values []string `json:"values,omitempty"`
}

// MaxEvidence caps the event ids an alert carries.
const MaxEvidence = 50

// RuleRef names the rule that fired.
type RuleRef struct {
	ID          string `json:"id"`
	Title       string `json:"name"`
	Description string `json:"description,omitempty"`
	Kind        string `json:"kind,omitempty"`
	MDI         []int  `json:"mdi,omitempty"`
	// Distinct names the field whose distinct values Alert.Values holds
	// (distinct-count rules), e.g. target.service for Kerberoasting.
	Distinct string `json:"distinct,omitempty"`
}

// Threat is the ATT&CK mapping, ECS threat.* shaped.
type Threat struct {
	Framework string    `json:"framework"` // always "MITRE ATT&CK"
	Tactic    Tactic    `json:"tactic"`
	Technique Technique `json:"technique"`
}

// Tactic is an ATT&CK tactic.
type Tactic struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// Technique is an ATT&CK technique or sub-technique.
type Technique struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// FrameworkATTACK is the value of threat.framework.
const FrameworkATTACK = "MITRE ATT&CK"

// AlertID is the stable id of an alert: the rule, its group key and the id of
// the first evidence event. A replay of the same input yields the same id.
func AlertID(ruleID, groupKey, firstEventID string) string {
	return StableID("alert", ruleID, groupKey, firstEventID)
}

type alertJSON Alert

// MarshalJSON adds "kind":"alert".
func (a Alert) MarshalJSON() ([]byte, error) { return marshalKind(RecordAlert, alertJSON(a)) }
