package engine

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// snapshotVersion is the version of the Snapshot format.
const snapshotVersion = 1

type snapshot struct {
	Version int                 `json:"version"`
	Rules   map[string]ruleSnap `json:"rules"`
}

type ruleSnap struct {
	// Shape identifies the rule parameters the state was built for; state of
	// a rule whose shape changed is discarded on Restore.
	Shape     string    `json:"shape"`
	LastSweep int64     `json:"last_sweep,omitempty"`
	Keys      []keySnap `json:"keys"` // least recently updated first
}

type keySnap struct {
	Key        string     `json:"key"`
	Group      []string   `json:"group,omitempty"`
	Last       int64      `json:"last"`
	Suppressed int64      `json:"suppressed,omitempty"`
	Events     []evidSnap `json:"events,omitempty"`
	Values     []evidSnap `json:"values,omitempty"`
}

type evidSnap struct {
	V  string `json:"v,omitempty"`
	T  int64  `json:"t"`
	ID string `json:"id,omitempty"`
}

func (r *Rule) shape() string {
	return strings.Join([]string{r.Kind, strings.Join(r.GroupBy, ","), r.Distinct,
		fmt.Sprint(r.Threshold), r.Window.String()}, "|")
}

// Snapshot serializes the state of every stateful rule (keys, evidence
// times and ids, distinct values, suppression) as JSON. The output is
// deterministic for a given state.
func (e *Engine) Snapshot() ([]byte, error) {
	snap := snapshot{Version: snapshotVersion, Rules: map[string]ruleSnap{}}
	for i, r := range e.rules {
		st := e.states[i]
		if st == nil {
			continue
		}
		rs := ruleSnap{Shape: r.shape(), LastSweep: st.lastSweep, Keys: make([]keySnap, 0, len(st.keys))}
		for k := st.head; k != nil; k = k.next {
			ks := keySnap{Key: k.key, Group: k.group, Last: k.last, Suppressed: k.suppressed}
			for _, ev := range k.ring {
				ks.Events = append(ks.Events, evidSnap{T: ev.t, ID: ev.id})
			}
			for v, ev := range k.vals {
				ks.Values = append(ks.Values, evidSnap{V: v, T: ev.t, ID: ev.id})
			}
			sort.Slice(ks.Values, func(a, b int) bool { return ks.Values[a].V < ks.Values[b].V })
			rs.Keys = append(rs.Keys, ks)
		}
		snap.Rules[r.ID] = rs
	}
	return json.Marshal(snap)
}

// Restore replaces the engine's state with a Snapshot. Rules missing from
// the snapshot, or whose parameters changed since it was taken, start
// empty; rules in the snapshot the engine does not have are ignored.
// Counters are not part of the snapshot.
func (e *Engine) Restore(data []byte) error {
	var snap snapshot
	if err := json.Unmarshal(data, &snap); err != nil {
		return fmt.Errorf("engine: restore: %w", err)
	}
	if snap.Version != snapshotVersion {
		return fmt.Errorf("engine: restore: unsupported snapshot version %d", snap.Version)
	}
	for i, r := range e.rules {
		if e.states[i] == nil {
			continue
		}
		st := newRuleState()
		e.states[i] = st
		rs, ok := snap.Rules[r.ID]
		if !ok || rs.Shape != r.shape() {
			continue
		}
		st.lastSweep = rs.LastSweep
		keys := rs.Keys
		if len(keys) > e.maxKeys {
			keys = keys[len(keys)-e.maxKeys:] // keep the most recently updated
		}
		for _, ks := range keys {
			if len(ks.Group) != len(r.GroupBy) {
				return fmt.Errorf("engine: restore: rule %s: key %q has %d group values, want %d",
					r.ID, ks.Key, len(ks.Group), len(r.GroupBy))
			}
			if _, dup := st.keys[ks.Key]; dup {
				return fmt.Errorf("engine: restore: rule %s: duplicate key %q", r.ID, ks.Key)
			}
			k := &keyState{key: ks.Key, group: ks.Group, last: ks.Last, suppressed: ks.Suppressed}
			if r.distinctGet != nil {
				k.vals = make(map[string]evid, len(ks.Values))
				for _, v := range ks.Values {
					k.vals[v.V] = evid{t: v.T, id: v.ID}
				}
			} else {
				evs := ks.Events
				if len(evs) > r.Threshold {
					evs = evs[len(evs)-r.Threshold:]
				}
				for _, v := range evs {
					k.ring = append(k.ring, evid{t: v.T, id: v.ID})
				}
				sort.SliceStable(k.ring, func(a, b int) bool { return k.ring[a].t < k.ring[b].t })
			}
			st.keys[k.key] = k
			st.pushBack(k)
		}
	}
	return nil
}
