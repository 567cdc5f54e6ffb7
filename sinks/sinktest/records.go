package sinktest

import (
	"fmt"
	"time"

	"github.com/castellan-itdr/castellan/mappings/schema"
	"github.com/castellan-itdr/castellan/sinks/delivery"
)

// epoch is the fixed clock of the generated records.
var epoch = time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)

var techniques = []struct{ tactic, tacticName, id, name string }{
	{"TA0006", "Credential Access", "T1558.003", "Kerberoasting"},
	{"TA0006", "Credential Access", "T1110.003", "Password Spraying"},
	{"TA0008", "Lateral Movement", "T1550.002", "Pass the Hash"},
	{"TA0006", "Credential Access", "T1003.006", "DCSync"},
}

// Alerts makes n distinct deterministic alerts: the same n always gives the
// same records and ids.
func Alerts(n int) []schema.Alert {
	out := make([]schema.Alert, n)
	for i := range out {
		tq := techniques[i%len(techniques)]
		ts := epoch.Add(time.Duration(i) * time.Second)
		user := fmt.Sprintf("user%04d", i%500)
		ruleID := fmt.Sprintf("contract-rule-%d", i%len(techniques))
		first := schema.StableID("contract-event", fmt.Sprint(i))
		out[i] = schema.Alert{
			ID:        schema.AlertID(ruleID, user, first),
			Timestamp: ts,
			Rule:      schema.RuleRef{ID: ruleID, Title: tq.name + " detected", Kind: "match"},
			Severity:  schema.Severity(1 + i%4),
			RiskScore: schema.Severity(1 + i%4).RiskScore(),
			Message:   fmt.Sprintf("%s by CONTOSO\\%s (#%d)", tq.name, user, i),
			Threat: schema.Threat{
				Framework: schema.FrameworkATTACK,
				Tactic:    schema.Tactic{ID: tq.tactic, Name: tq.tacticName},
				Technique: schema.Technique{ID: tq.id, Name: tq.name},
			},
			User:      schema.User{Name: user, Domain: "CONTOSO", ID: fmt.Sprintf("S-1-5-21-1-2-3-%d", 1000+i%500)},
			Source:    schema.Endpoint{IP: fmt.Sprintf("10.0.%d.%d", i/250%250, i%250+1)},
			Host:      schema.Host{Name: "dc01.contoso.local", Domain: "CONTOSO"},
			FirstSeen: ts.Add(-time.Minute),
			LastSeen:  ts,
			Count:     1,
			EventIDs:  []string{first},
		}
	}
	return out
}

// Incidents makes n distinct deterministic incidents.
func Incidents(n int) []schema.Incident {
	out := make([]schema.Incident, n)
	for i := range out {
		ts := epoch.Add(time.Duration(i) * time.Minute)
		first := schema.AlertID("contract-incident", fmt.Sprint(i), "")
		out[i] = schema.Incident{
			ID:        schema.IncidentID(first),
			Version:   1,
			Timestamp: ts,
			Status:    schema.IncidentOpen,
			Title:     fmt.Sprintf("Credential attack chain on user%04d", i),
			Severity:  schema.SeverityHigh,
			RiskScore: schema.SeverityHigh.RiskScore(),
			FirstSeen: ts.Add(-10 * time.Minute),
			LastSeen:  ts,
			Threat: schema.IncidentThreat{
				Framework:  schema.FrameworkATTACK,
				Tactics:    []schema.Tactic{{ID: "TA0006", Name: "Credential Access"}},
				Techniques: []schema.Technique{{ID: "T1558.003", Name: "Kerberoasting"}},
			},
			Entities: schema.Entities{Users: []string{fmt.Sprintf("CONTOSO\\user%04d", i)}},
			Alerts: []schema.AlertRef{{ID: first, RuleID: "contract-incident", Title: "Kerberoasting", Severity: schema.SeverityHigh,
				Technique: "T1558.003", Tactic: "TA0006", Timestamp: ts}},
		}
	}
	return out
}

// Items encodes records as delivery items. It panics on an encoding error
// (the records are the test's own).
func Items[R schema.Record](records ...R) []delivery.Item {
	out := make([]delivery.Item, len(records))
	for i, r := range records {
		it, err := delivery.NewItem(r)
		if err != nil {
			panic(err)
		}
		out[i] = it
	}
	return out
}

// EncodeItems encodes records with a sink's encoder, as the pipeline queues
// them for that sink (delivery.NewItem when enc is nil). It panics on an
// encoding error (the records are the test's own).
func EncodeItems[R schema.Record](enc delivery.EncodeFunc, records ...R) []delivery.Item {
	if enc == nil {
		return Items(records...)
	}
	out := make([]delivery.Item, len(records))
	for i, r := range records {
		it, err := enc(r)
		if err != nil {
			panic(err)
		}
		if it.Kind != r.RecordKind() || it.ID != r.RecordID() || it.Severity != r.RecordSeverity() {
			panic(fmt.Sprintf("sinktest: encoder changed kind, id or severity of %s %s: %s %s %v", r.RecordKind(), r.RecordID(), it.Kind, it.ID, it.Severity))
		}
		out[i] = it
	}
	return out
}
