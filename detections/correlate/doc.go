// Package correlate joins alerts into identity incidents.
//
// Alerts that share an entity — an account, a source IP or a source host —
// within the window (default 24 h, by event time) form one incident. An alert
// that touches two open incidents merges them into the older one. Each change
// bumps the incident's version; Flush returns the changed incidents so the
// pipeline re-emits them (SIEMs keep the latest version per id).
//
// Entities of an alert: for a stateful rule, the values of its group_by
// fields (a password spray grouped by source.ip is about that IP, not about
// the sprayed accounts), plus the source IP and host of the evidence when the
// rule is grouped by a user (the actor's machine); for a match rule, the
// acting user and the source IP and host.
package correlate
