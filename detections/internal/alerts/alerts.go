// Package alerts builds the parts of a schema.Alert that the detection
// engines (detections/engine and detections/sigma) fill the same way: the
// rule, severity, ATT&CK threat and entities of a new alert, and the
// evidence and message of a single-event (match) alert.
package alerts

import (
	"slices"
	"strings"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// New returns an alert of rule ref at severity sev with its ATT&CK tactic
// and technique, carrying the entities of ev (user, source, host, target;
// user tags are copied, not shared with ev).
func New(ref schema.RuleRef, sev schema.Severity, tactic schema.Tactic, technique schema.Technique, ev *schema.Event) schema.Alert {
	return schema.Alert{
		Rule:      ref,
		Severity:  sev,
		RiskScore: sev.RiskScore(),
		Threat: schema.Threat{
			Framework: schema.FrameworkATTACK,
			Tactic:    tactic,
			Technique: technique,
		},
		User:   CloneUser(ev.User),
		Source: ev.Source,
		Host:   ev.Host,
		Target: Target(ev),
	}
}

// Target returns the target entities of ev, its user's tags copied.
func Target(ev *schema.Event) schema.Target {
	return schema.Target{
		User: CloneUser(ev.Target.User), Group: ev.Target.Group,
		Service: ev.Target.Service, IsMachine: ev.Target.IsMachine,
	}
}

// CloneUser returns u with its own copy of the tags.
func CloneUser(u schema.User) schema.User {
	u.Tags = slices.Clone(u.Tags)
	return u
}

// Match fills a as the alert of one matching event ev for rule ruleID:
// id, times, count and evidence from ev, and the message "<title>: user
// <identity> from <ip or hostname> on <host> (event <code>)" (the parts
// ev has; the title alone when it has none).
func Match(a *schema.Alert, ruleID, title string, ev *schema.Event) {
	a.ID = schema.AlertID(ruleID, "", ev.ID)
	a.Timestamp = ev.Timestamp
	a.FirstSeen, a.LastSeen = ev.Timestamp, ev.Timestamp
	a.Count = 1
	a.EventIDs = []string{ev.ID}
	var parts []string
	if id := ev.User.Identity(); id != "" {
		parts = append(parts, "user "+id)
	}
	if ev.Source.IP != "" {
		parts = append(parts, "from "+ev.Source.IP)
	} else if ev.Source.Hostname != "" {
		parts = append(parts, "from "+ev.Source.Hostname)
	}
	if ev.Host.Name != "" {
		parts = append(parts, "on "+ev.Host.Name)
	}
	if ev.Event.Code != "" {
		parts = append(parts, "(event "+ev.Event.Code+")")
	}
	a.Message = title
	if len(parts) > 0 {
		a.Message += ": " + strings.Join(parts, " ")
	}
}
