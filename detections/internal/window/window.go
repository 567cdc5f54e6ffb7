// Package window is the distinct-value window that detections/engine's
// distinct rules and detections/sigma's value_count correlations share:
// a map of lower-cased value → its latest evidence, bounded, expired by
// event time, and read out as sorted values with chronological evidence.
package window

import (
	"sort"
)

// Timed is one piece of evidence: Time is its event time (Unix ns).
type Timed interface{ Time() int64 }

// Expire deletes the values last seen w or more before now.
func Expire[E Timed](m map[string]E, now, w int64) {
	for v, e := range m {
		if now-e.Time() >= w {
			delete(m, v)
		}
	}
}

// Add records value v seen with evidence e (kept when not older than the
// held one). A new value over limit values first expires old ones, then,
// if still full, drops the oldest (on equal times, the smallest value).
func Add[E Timed](m map[string]E, v string, e E, limit int, now, w int64) {
	if old, ok := m[v]; ok {
		if e.Time() >= old.Time() {
			m[v] = e
		}
		return
	}
	if len(m) >= limit {
		Expire(m, now, w)
		if len(m) >= limit {
			oldest, ot := "", int64(0)
			for val, x := range m {
				if t := x.Time(); oldest == "" || t < ot || t == ot && val < oldest {
					oldest, ot = val, t
				}
			}
			delete(m, oldest)
		}
	}
	m[v] = e
}

// Collect returns the values, sorted, and their evidence in chronological
// order (equal times keep value order).
func Collect[E Timed](m map[string]E) (values []string, evs []E) {
	values = make([]string, 0, len(m))
	for v := range m {
		values = append(values, v)
	}
	sort.Strings(values)
	evs = make([]E, len(values))
	for i, v := range values {
		evs[i] = m[v]
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Time() < evs[j].Time() })
	return values, evs
}
