package engine

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// snapshotVersion is the version of the Snapshot format. Version 1
// snapshots of threshold and distinct rules taken before the sequence,
// new_value and missing_predecessor kinds existed restore unchanged.
const snapshotVersion = 1

type snapshot struct {
	Version   int                 `json:"version"`
	Watermark int64               `json:"watermark,omitempty"`
	Rules     map[string]ruleSnap `json:"rules"`
}

type ruleSnap struct {
	// Shape identifies the rule parameters the state was built for; state of
	// a rule whose shape changed is discarded on Restore.
	Shape     string        `json:"shape"`
	LastSweep int64         `json:"last_sweep,omitempty"`
	Start     int64         `json:"start,omitempty"` // new_value, missing_predecessor: first event time
	Keys      []keySnap     `json:"keys"`            // least recently updated first
	Pending   []pendingSnap `json:"pending,omitempty"`
}

type keySnap struct {
	Key        string     `json:"key"`
	Group      []string   `json:"group,omitempty"`
	Last       int64      `json:"last"`
	Suppressed int64      `json:"suppressed,omitempty"`
	Events     []evidSnap `json:"events,omitempty"`
	Values     []evidSnap `json:"values,omitempty"`
	// sequence
	Step       int        `json:"step,omitempty"`
	Start      int64      `json:"start,omitempty"`
	First      []evidSnap `json:"first,omitempty"`
	Cur        []evidSnap `json:"cur,omitempty"`
	Done       []evidSnap `json:"done,omitempty"`
	Count      int        `json:"count,omitempty"`
	DoneValues []string   `json:"done_values,omitempty"`
	// missing_predecessor
	Pred int64 `json:"pred,omitempty"`
	// travel: the held location
	Lat float64 `json:"lat,omitempty"`
	Lon float64 `json:"lon,omitempty"`
}

type evidSnap struct {
	V  string `json:"v,omitempty"`
	T  int64  `json:"t"`
	ID string `json:"id,omitempty"`
}

type pendingSnap struct {
	T      int64           `json:"t"`
	ID     string          `json:"id"`
	Key    string          `json:"key"`
	Group  []string        `json:"group,omitempty"`
	User   schema.User     `json:"user,omitzero"`
	Source schema.Endpoint `json:"source,omitzero"`
	Host   schema.Host     `json:"host,omitzero"`
	Target schema.Target   `json:"target,omitzero"`
}

func (r *Rule) shape() string {
	parts := []string{r.Kind, strings.Join(r.GroupBy, ","), r.Distinct,
		fmt.Sprint(r.Threshold), r.Window.String()}
	switch r.Kind {
	case KindSequence:
		for _, st := range r.Steps {
			parts = append(parts, fmt.Sprintf("%s:%d:%s", st.Name, st.Count, st.Distinct))
		}
	case KindNewValue:
		parts = append(parts, r.NewValue, r.Learning.String(), r.Forget.String(), fmt.Sprint(r.MaxValues))
	case KindMissingPredecessor:
		parts = append(parts, strings.Join(r.PredecessorKey, ","), r.Within.String(), r.Grace.String(), r.Learning.String())
	case KindTravel:
		parts = append(parts, fmt.Sprint(r.MaxSpeed), fmt.Sprint(r.MinDistance))
	}
	return strings.Join(parts, "|")
}

// Snapshot serializes the state of every stateful rule (keys, evidence
// times and ids, distinct and known values, sequence progress, buffered
// events, suppression, learning start) and the engine's event-time
// watermark as JSON. The output is deterministic for a given state.
func (e *Engine) Snapshot() ([]byte, error) {
	snap := snapshot{Version: snapshotVersion, Watermark: e.watermark, Rules: map[string]ruleSnap{}}
	for i, r := range e.rules {
		if x := e.evals[i]; x != nil {
			rs := x.snapshot()
			rs.Shape = r.shape()
			snap.Rules[r.ID] = rs
		}
	}
	return json.Marshal(snap)
}

// Restore replaces the engine's state with a Snapshot. Rules missing from
// the snapshot, or whose parameters changed since it was taken, start
// empty; rules in the snapshot the engine does not have are ignored. State
// beyond the engine's caps is cut (most recently updated kept). Counters
// are not part of the snapshot.
func (e *Engine) Restore(data []byte) error {
	var snap snapshot
	if err := json.Unmarshal(data, &snap); err != nil {
		return fmt.Errorf("engine: restore: %w", err)
	}
	if snap.Version != snapshotVersion {
		return fmt.Errorf("engine: restore: unsupported snapshot version %d", snap.Version)
	}
	e.watermark = snap.Watermark
	for i, r := range e.rules {
		if e.evals[i] == nil {
			continue
		}
		e.evals[i] = e.newEvaluator(r, e.tunes[i])
		rs, ok := snap.Rules[r.ID]
		if !ok || rs.Shape != r.shape() {
			continue
		}
		keys := rs.Keys
		if len(keys) > e.maxKeys {
			keys = keys[len(keys)-e.maxKeys:] // keep the most recently updated
		}
		seen := make(map[string]bool, len(keys))
		for _, ks := range keys {
			if len(ks.Group) != len(r.GroupBy) {
				return fmt.Errorf("engine: restore: rule %s: key %q has %d group values, want %d",
					r.ID, ks.Key, len(ks.Group), len(r.GroupBy))
			}
			if seen[ks.Key] {
				return fmt.Errorf("engine: restore: rule %s: duplicate key %q", r.ID, ks.Key)
			}
			seen[ks.Key] = true
		}
		rs.Keys = keys
		if err := e.evals[i].restore(rs); err != nil {
			return fmt.Errorf("engine: restore: rule %s: %w", r.ID, err)
		}
	}
	return nil
}

func evidsSnap(evs []evid) []evidSnap {
	var out []evidSnap
	for _, ev := range evs {
		out = append(out, evidSnap{T: ev.t, ID: ev.id})
	}
	return out
}

func valuesSnap(m map[string]evid) []evidSnap {
	var out []evidSnap
	for v, ev := range m {
		out = append(out, evidSnap{V: v, T: ev.t, ID: ev.id})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].V < out[b].V })
	return out
}

func evidsFrom(s []evidSnap, limit int) []evid {
	if limit >= 0 && len(s) > limit {
		s = s[len(s)-limit:]
	}
	out := make([]evid, 0, len(s))
	for _, v := range s {
		out = append(out, evid{t: v.T, id: v.ID})
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].t < out[b].t })
	return out
}

// threshold and distinct

func (x *thresholdEval) snapshot() ruleSnap {
	st := x.st
	rs := ruleSnap{LastSweep: st.lastSweep, Keys: make([]keySnap, 0, st.keys.Len())}
	for n := st.keys.Front(); n != nil; n = n.Next() {
		k := &n.V
		rs.Keys = append(rs.Keys, keySnap{Key: n.Key, Group: k.group, Last: k.last, Suppressed: k.suppressed,
			Events: evidsSnap(k.ring), Values: valuesSnap(k.vals)})
	}
	return rs
}

func (x *thresholdEval) restore(rs ruleSnap) error {
	r, st := x.r, x.st
	st.lastSweep = rs.LastSweep
	for _, ks := range rs.Keys {
		k := &keyState{group: ks.Group, last: ks.Last, suppressed: ks.Suppressed}
		if r.distinctGet != nil {
			k.vals = make(map[string]evid, len(ks.Values))
			for _, v := range ks.Values {
				k.vals[v.V] = evid{t: v.T, id: v.ID}
			}
		} else {
			k.ring = evidsFrom(ks.Events, r.Threshold)
		}
		n, _, _ := st.keys.Upsert(ks.Key, st.keys.Len()+1) // no eviction: restore caps keys itself
		n.V = *k
	}
	return nil
}

// sequence

func progressSnap(p *progress) []evidSnap {
	if p.vals != nil {
		return valuesSnap(p.vals)
	}
	return evidsSnap(p.ring)
}

func progressFrom(st *Step, s []evidSnap) progress {
	var p progress
	if st.distinctGet != nil {
		p.vals = make(map[string]evid, len(s))
		for _, v := range s {
			p.vals[v.V] = evid{t: v.T, id: v.ID}
		}
		return p
	}
	p.ring = evidsFrom(s, st.Count)
	return p
}

func (x *seqEval) snapshot() ruleSnap {
	rs := ruleSnap{LastSweep: x.lastSweep, Keys: make([]keySnap, 0, x.keys.Len())}
	for n := x.keys.Front(); n != nil; n = n.Next() {
		k := &n.V
		rs.Keys = append(rs.Keys, keySnap{Key: n.Key, Group: k.group, Last: k.last,
			First: progressSnap(&k.first), Step: k.step, Start: k.start, Cur: progressSnap(&k.cur),
			Done: evidsSnap(k.done), Count: k.count, DoneValues: k.vals})
	}
	return rs
}

func (x *seqEval) restore(rs ruleSnap) error {
	x.lastSweep = rs.LastSweep
	for _, ks := range rs.Keys {
		if ks.Step < 0 || ks.Step >= len(x.r.Steps) {
			return fmt.Errorf("key %q: step %d out of range", ks.Key, ks.Step)
		}
		n, _, _ := x.keys.Upsert(ks.Key, x.maxKeys)
		cur := 0
		if ks.Step > 0 {
			cur = ks.Step
		}
		n.V = seqKey{group: ks.Group, last: ks.Last, step: ks.Step, start: ks.Start,
			first: progressFrom(&x.r.Steps[0], ks.First), cur: progressFrom(&x.r.Steps[cur], ks.Cur),
			done: evidsFrom(ks.Done, schema.MaxEvidence), count: ks.Count, vals: ks.DoneValues}
	}
	return nil
}

// new_value

func (x *nvEval) snapshot() ruleSnap {
	rs := ruleSnap{LastSweep: x.lastSweep, Start: x.start, Keys: make([]keySnap, 0, x.keys.Len())}
	for n := x.keys.Front(); n != nil; n = n.Next() {
		ks := keySnap{Key: n.Key, Group: n.V.group, Last: n.V.last}
		for v, t := range n.V.vals {
			ks.Values = append(ks.Values, evidSnap{V: v, T: t})
		}
		sort.Slice(ks.Values, func(a, b int) bool { return ks.Values[a].V < ks.Values[b].V })
		rs.Keys = append(rs.Keys, ks)
	}
	return rs
}

func (x *nvEval) restore(rs ruleSnap) error {
	x.lastSweep, x.start = rs.LastSweep, rs.Start
	for _, ks := range rs.Keys {
		n, _, _ := x.keys.Upsert(ks.Key, x.maxKeys)
		n.V = nvKey{group: ks.Group, last: ks.Last, vals: make(map[string]int64, len(ks.Values))}
		vals := ks.Values
		if len(vals) > x.r.MaxValues {
			sort.Slice(vals, func(a, b int) bool { return vals[a].T > vals[b].T || vals[a].T == vals[b].T && vals[a].V < vals[b].V })
			vals = vals[:x.r.MaxValues]
		}
		for _, v := range vals {
			n.V.vals[v.V] = v.T
		}
	}
	return nil
}

// missing_predecessor

func (x *mpEval) snapshot() ruleSnap {
	rs := ruleSnap{LastSweep: x.lastSweep, Start: x.start, Keys: make([]keySnap, 0, x.keys.Len())}
	for n := x.keys.Front(); n != nil; n = n.Next() {
		rs.Keys = append(rs.Keys, keySnap{Key: n.Key, Group: n.V.group, Last: n.V.last, Pred: n.V.pred, Suppressed: n.V.suppressed})
	}
	for _, p := range x.pending {
		rs.Pending = append(rs.Pending, pendingSnap{T: p.t, ID: p.id, Key: p.key, Group: p.group,
			User: p.user, Source: p.source, Host: p.host, Target: p.target})
	}
	return rs
}

func (x *mpEval) restore(rs ruleSnap) error {
	x.lastSweep, x.start = rs.LastSweep, rs.Start
	for _, ks := range rs.Keys {
		n, _, _ := x.keys.Upsert(ks.Key, x.maxKeys)
		n.V = mpKey{group: ks.Group, last: ks.Last, pred: ks.Pred, suppressed: ks.Suppressed}
	}
	pend := rs.Pending
	if len(pend) > x.maxKeys {
		pend = pend[len(pend)-x.maxKeys:]
	}
	for _, p := range pend {
		if len(p.Group) != len(x.r.Key) {
			return fmt.Errorf("buffered event %q has %d key values, want %d", p.ID, len(p.Group), len(x.r.Key))
		}
		x.push(pendingEv{t: p.T, id: p.ID, key: p.Key, group: p.Group,
			user: p.User, source: p.Source, host: p.Host, target: p.Target})
	}
	return nil
}
