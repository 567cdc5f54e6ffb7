package sigma

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

const snapshotVersion = 1

type snapshot struct {
	Version int                 `json:"version"`
	Rules   map[string]ruleSnap `json:"rules"`
}

type ruleSnap struct {
	// Shape identifies the correlation parameters the state was built for;
	// state of a rule whose shape changed is discarded on Restore.
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
	Steps      []evidSnap `json:"steps,omitempty"`
}

type evidSnap struct {
	V  string `json:"v,omitempty"`
	T  int64  `json:"t"`
	ID string `json:"id,omitempty"`
}

func (c *Correlation) shape() string {
	return strings.Join([]string{c.Type, strings.Join(c.Rules, ","), strings.Join(c.GroupBy, ","),
		c.Field, c.Op, fmt.Sprint(c.Count), c.Timespan.String()}, "|")
}

// Snapshot serializes the state of every correlation rule (keys, evidence
// times and ids, distinct values, temporal steps, suppression) as JSON.
// The output is deterministic for a given state. Counters are not saved.
func (s *Set) Snapshot() ([]byte, error) {
	snap := snapshot{Version: snapshotVersion, Rules: map[string]ruleSnap{}}
	for i, r := range s.rules {
		rt := s.corr[i]
		if rt == nil {
			continue
		}
		rs := ruleSnap{Shape: r.Correlation.shape(), LastSweep: rt.lastSweep, Keys: make([]keySnap, 0, rt.keys.Len())}
		for n := rt.keys.Front(); n != nil; n = n.Next() {
			k := &n.V
			ks := keySnap{Key: n.Key, Group: k.group, Last: k.last, Suppressed: k.suppressed}
			for _, e := range k.ring {
				ks.Events = append(ks.Events, evidSnap{T: e.t, ID: e.id})
			}
			for v, e := range k.vals {
				ks.Values = append(ks.Values, evidSnap{V: v, T: e.t, ID: e.id})
			}
			sort.Slice(ks.Values, func(a, b int) bool { return ks.Values[a].V < ks.Values[b].V })
			for _, e := range k.steps {
				ks.Steps = append(ks.Steps, evidSnap{T: e.t, ID: e.id})
			}
			rs.Keys = append(rs.Keys, ks)
		}
		snap.Rules[r.ID] = rs
	}
	return json.Marshal(snap)
}

// Restore replaces the correlation state with a Snapshot. Rules missing
// from the snapshot, or whose parameters changed, start empty; rules in the
// snapshot the Set does not have are ignored. At most MaxKeysPerRule keys
// per rule are restored (the most recently updated).
func (s *Set) Restore(data []byte) error {
	var snap snapshot
	if err := json.Unmarshal(data, &snap); err != nil {
		return fmt.Errorf("sigma: restore: %w", err)
	}
	if snap.Version != snapshotVersion {
		return fmt.Errorf("sigma: restore: unsupported snapshot version %d", snap.Version)
	}
	for i, r := range s.rules {
		old := s.corr[i]
		if old == nil {
			continue
		}
		rt := newCorrRT(r)
		rt.refs = old.refs
		s.corr[i] = rt
		rs, ok := snap.Rules[r.ID]
		if !ok || rs.Shape != r.Correlation.shape() {
			continue
		}
		rt.lastSweep = rs.LastSweep
		keys := rs.Keys
		if len(keys) > s.maxKeys {
			keys = keys[len(keys)-s.maxKeys:]
		}
		for _, ks := range keys {
			if len(ks.Group) != len(r.Correlation.GroupBy) {
				return fmt.Errorf("sigma: restore: rule %s: key %q has %d group values, want %d",
					r.ID, ks.Key, len(ks.Group), len(r.Correlation.GroupBy))
			}
			if rt.keys.Get(ks.Key) != nil {
				return fmt.Errorf("sigma: restore: rule %s: duplicate key %q", r.ID, ks.Key)
			}
			k := &corrKey{group: ks.Group, last: ks.Last, suppressed: ks.Suppressed}
			evs := ks.Events
			if len(evs) > rt.threshold {
				evs = evs[len(evs)-rt.threshold:]
			}
			for _, e := range evs {
				k.ring = append(k.ring, evid{t: e.T, id: e.ID})
			}
			sort.SliceStable(k.ring, func(a, b int) bool { return k.ring[a].t < k.ring[b].t })
			if len(ks.Values) > 0 {
				k.vals = make(map[string]evid, len(ks.Values))
				for _, v := range ks.Values {
					if len(k.vals) < rt.valueCap {
						k.vals[v.V] = evid{t: v.T, id: v.ID}
					}
				}
			}
			if len(ks.Steps) > 0 {
				if len(ks.Steps) != len(rt.refs) {
					return fmt.Errorf("sigma: restore: rule %s: key %q has %d steps, want %d", r.ID, ks.Key, len(ks.Steps), len(rt.refs))
				}
				for _, e := range ks.Steps {
					k.steps = append(k.steps, evid{t: e.T, id: e.ID})
				}
			}
			n, _, _ := rt.keys.Upsert(ks.Key, s.maxKeys)
			n.V = *k
		}
	}
	return nil
}
