package schema

import "time"

// Finding is the result of one identity-posture assessment.
type Finding struct {
	ID           string    `json:"id"`
	Timestamp    time.Time `json:"@timestamp"`
	AssessmentID string    `json:"assessment_id"`
	Title        string    `json:"title"`
	Severity     Severity  `json:"severity"`
	Status       string    `json:"status"` // failed | passed | error
	// Evidence says how it was detected: the attribute or ACE that proves it.
	Evidence    string   `json:"evidence,omitempty"`
	Entities    []string `json:"entities,omitempty"`
	Remediation string   `json:"remediation,omitempty"`
	Threat      Threat   `json:"threat,omitzero"`
}

// FindingID is the stable id of a finding: assessment, snapshot and entity set.
func FindingID(assessmentID, snapshotID string, entities []string) string {
	return StableID(append([]string{"finding", assessmentID, snapshotID}, entities...)...)
}

type findingJSON Finding

// MarshalJSON adds "kind":"finding".
func (f Finding) MarshalJSON() ([]byte, error) { return marshalKind(RecordFinding, findingJSON(f)) }

// Action is a response action taken (or simulated) on an identity: the audit
// trail of containment.
type Action struct {
	ID         string    `json:"id"`
	Timestamp  time.Time `json:"@timestamp"`
	Type       string    `json:"type"`    // disable_user, revoke_sessions, ...
	Mode       string    `json:"mode"`    // dry_run | enforce
	Trigger    string    `json:"trigger"` // operator name or rule id
	IncidentID string    `json:"incident_id,omitempty"`
	Target     User      `json:"target"`
	Result     string    `json:"result"` // succeeded | failed | refused | simulated
	Reason     string    `json:"reason,omitempty"`
	Before     string    `json:"before,omitempty"`
	After      string    `json:"after,omitempty"`
}

// ActionID is the stable id of an action: type, target, trigger and request time.
func ActionID(actionType, target, trigger string, at time.Time) string {
	return StableID("action", actionType, target, trigger, at.UTC().Format(time.RFC3339Nano))
}

type actionJSON Action

// MarshalJSON adds "kind":"action".
func (a Action) MarshalJSON() ([]byte, error) { return marshalKind(RecordAction, actionJSON(a)) }
