package asim

import (
	"time"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// ActionRow is one row of CastellanActions_CL: the audit record of one
// response action taken (or simulated) on an identity. EventId is the
// action id; Trigger is the operator or rule that asked for it. The target
// account is named the ASIM way (TargetUsername with its type, TargetUserId
// with its type, SID or AADID, and TargetUserUpn). Result keeps Castellan's
// word (succeeded, failed, refused, simulated); EventResult is the ASIM one
// (Success, Failure, NA). Before and After are the account's relevant
// state as the responder recorded it (JSON text); an action never holds a
// secret, so neither does its row.
type ActionRow struct {
	TimeGenerated      time.Time `json:"TimeGenerated"`
	EventId            string    `json:"EventId"`
	EventProduct       string    `json:"EventProduct"`
	EventVendor        string    `json:"EventVendor"`
	ActionType         string    `json:"ActionType"`
	Mode               string    `json:"Mode"`
	Trigger            string    `json:"Trigger"`
	IncidentId         string    `json:"IncidentId,omitempty"`
	TargetUsername     string    `json:"TargetUsername,omitempty"`
	TargetUsernameType string    `json:"TargetUsernameType,omitempty"`
	TargetUserId       string    `json:"TargetUserId,omitempty"`
	TargetUserIdType   string    `json:"TargetUserIdType,omitempty"`
	TargetUserUpn      string    `json:"TargetUserUpn,omitempty"`
	Result             string    `json:"Result"`
	EventResult        string    `json:"EventResult"`
	Reason             string    `json:"Reason,omitempty"`
	Before             string    `json:"Before,omitempty"`
	After              string    `json:"After,omitempty"`
}

// FromAction maps a response action onto a CastellanActions_CL row.
func FromAction(a *schema.Action) ActionRow {
	r := ActionRow{
		TimeGenerated: a.Timestamp.UTC(),
		EventId:       a.ID,
		EventProduct:  Product,
		EventVendor:   Vendor,
		ActionType:    a.Type,
		Mode:          a.Mode,
		Trigger:       a.Trigger,
		IncidentId:    a.IncidentID,
		TargetUserUpn: a.Target.UPN,
		Result:        a.Result,
		EventResult:   actionResult(a.Result),
		Reason:        a.Reason,
		Before:        a.Before,
		After:         a.After,
	}
	r.TargetUsername, r.TargetUsernameType = username(a.Target)
	r.TargetUserId, r.TargetUserIdType = userID(a.Target.ID)
	return r
}

// actionResult maps an action result onto ASIM's EventResult: a simulated
// (dry-run) action neither succeeded nor failed.
func actionResult(result string) string {
	switch result {
	case "succeeded":
		return "Success"
	case "failed", "refused":
		return "Failure"
	default:
		return "NA"
	}
}
