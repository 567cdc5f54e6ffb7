// Package alerts builds the parts of a schema.Alert that the detection
// engines (detections/engine and detections/sigma) fill the same way: the
// rule, severity, ATT&CK threat and entities of a new alert, and the
// evidence and message of a single-event (match) alert.
package alerts

import (
	"slices"
	"strings"
	"time"

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

// MaxValues caps Alert.Values.
const MaxValues = 50

// Window fills a as the alert of a stateful rule ruleID firing for group
// key key on n pieces of chronological evidence, at(i) giving the i-th
// event's time (Unix ns) and id: the alert id (rule, key, first event),
// first and last seen, count, at most schema.MaxEvidence event ids, at most
// MaxValues of values, and the group key (groupBy[i] → group[i]).
func Window(a *schema.Alert, ruleID, key string, n int, at func(i int) (t int64, id string), values, groupBy, group []string) {
	first, firstID := at(0)
	last := first
	ids := make([]string, 0, min(n, schema.MaxEvidence))
	for i := range n {
		t, id := at(i)
		first, last = min(first, t), max(last, t)
		if len(ids) < schema.MaxEvidence {
			ids = append(ids, id)
		}
	}
	a.ID = schema.AlertID(ruleID, key, firstID)
	a.Timestamp = time.Unix(0, last).UTC()
	a.FirstSeen, a.LastSeen = time.Unix(0, first).UTC(), a.Timestamp
	a.Count = n
	a.EventIDs = ids
	if len(values) > MaxValues {
		values = values[:MaxValues]
	}
	a.Values = values
	if len(groupBy) > 0 {
		a.GroupKey = make(map[string]string, len(groupBy))
		for i, g := range groupBy {
			a.GroupKey[g] = group[i]
		}
	}
}
