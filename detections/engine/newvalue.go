package engine

import (
	"strconv"
	"strings"
	"time"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// nvKey is one group key of a new_value rule: its known values and when
// each was last seen.
type nvKey struct {
	group []string
	last  int64
	vals  map[string]int64
}

// nvEval evaluates a new_value rule.
type nvEval struct {
	keyed[nvKey]
	start int64 // time of the rule's first matching event; 0 = none yet
}

func (x *nvEval) process(ev *schema.Event, c *RuleStats, emit func(schema.Alert)) {
	r := x.r
	if !r.matches(ev) || !admit(x.tune, ev, c) {
		return
	}
	key, group, empty := groupKey(r, ev)
	if empty {
		c.SkippedEmptyKey++
		return
	}
	raw := r.newValueGet(ev)
	if raw == "" {
		c.SkippedEmptyValue++
		return
	}
	v := strings.ToLower(raw)
	t := nanos(ev.Timestamp)
	if x.start == 0 {
		x.start = t
	}
	x.sweep(t)
	n, _ := x.key(key, c)
	k := &n.V
	k.group = group
	k.last = max(k.last, t)
	forget := int64(r.Forget)
	seen, known := k.vals[v]
	if known && t >= seen && t-seen >= forget {
		known = false // forgotten
	}
	if !known {
		if k.vals == nil {
			k.vals = make(map[string]int64, 4)
		}
		if _, held := k.vals[v]; !held && len(k.vals) >= r.MaxValues {
			for val, at := range k.vals {
				if k.last-at >= forget {
					delete(k.vals, val)
				}
			}
			if len(k.vals) >= r.MaxValues {
				oldest, ot, first := "", int64(0), true
				for val, at := range k.vals {
					if first || at < ot || at == ot && val < oldest {
						oldest, ot, first = val, at, false
					}
				}
				delete(k.vals, oldest)
				c.Evictions++
			}
		}
	}
	if !known || t > seen {
		k.vals[v] = t
	}
	if known || t-x.start < int64(r.Learning) {
		return
	}
	a := baseAlert(r, ev)
	a.ID = schema.AlertID(r.ID, key, ev.ID)
	a.Timestamp = ev.Timestamp
	a.FirstSeen, a.LastSeen = ev.Timestamp, ev.Timestamp
	a.Count = 1
	a.EventIDs = []string{ev.ID}
	a.Values = []string{raw}
	a.GroupKey = groupMap(r.GroupBy, group)
	var b strings.Builder
	messageHead(&b, r, ev)
	b.WriteString("new ")
	b.WriteString(r.NewValue)
	b.WriteString(" ")
	b.WriteString(raw)
	if n := len(k.vals) - 1; n > 0 {
		b.WriteString(" (")
		b.WriteString(plural(n, "known value"))
		b.WriteString(")")
	}
	a.Message = b.String()
	c.Alerts++
	emit(a)
}

func plural(n int, noun string) string {
	s := strconv.Itoa(n) + " " + noun
	if n != 1 {
		s += "s"
	}
	return s
}

// sweep drops keys not updated for forget (all their values are
// forgotten), at most once per min(forget, 1h) of event time.
func (x *nvEval) sweep(now int64) {
	forget := int64(x.r.Forget)
	x.sweepEvery(now, min(forget, int64(time.Hour)), func(k *nvKey) bool { return now-k.last >= forget })
}
