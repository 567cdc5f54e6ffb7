// Package priority scores identities for investigation: MDI's
// "investigation priority score", explained.
//
// Every alert adds points to each identity it is about (the user keys that
// correlation joins on: the acting or grouped-by account, and the victims
// a distinct-count rule counted). An identity's score is the sum of the
// points of its alerts within the window (default 7 days of event time);
// its percentile is the share of scored identities whose score is lower
// or equal. Points follow the severity — informational 1, low 5, medium
// 10, high 30, critical 50 — for rule alerts and for abnormal-activity
// rules (kinds new_value and travel: a first-seen value, impossible
// travel) alike; factors say which kind each is. The score is explained
// factor by factor: one factor per rule and severity, with the alert
// count, the points and the last time it fired.
//
// A Tracker is fed the same alerts as the correlator, annotates incidents
// with the priority of their identities, lists the identities most at risk
// (Top), and snapshots as JSON with the processor state. Not safe for
// concurrent use.
package priority
