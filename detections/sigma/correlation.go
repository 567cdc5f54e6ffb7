package sigma

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/castellan-itdr/castellan/detections/internal/alerts"
	"github.com/castellan-itdr/castellan/detections/internal/lru"
	"github.com/castellan-itdr/castellan/detections/internal/window"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// evid is one piece of evidence: an event time (Unix ns) and id.
type evid struct {
	t  int64
	id string
}

// corrRT is the runtime of one correlation rule: resolved references,
// getters and bounded per-key state (keys in update order, least recently
// updated first).
type corrRT struct {
	rule      *Rule
	refs      []int // rule indices of the referenced detection rules
	groupGet  []getter
	fieldGet  getter
	threshold int
	window    int64
	valueCap  int
	keys      *lru.List[corrKey]
	lastSweep int64
	lastEvent uint64 // Set.events of the last observed event (count once per event)
}

type corrKey struct {
	group      []string
	last       int64
	suppressed int64
	ring       []evid          // event_count
	vals       map[string]evid // value_count
	steps      []evid          // temporal: per referenced rule, last match (id "" = none)
}

func newCorrRT(r *Rule) *corrRT {
	c := r.Correlation
	rt := &corrRT{
		rule:      r,
		refs:      make([]int, len(c.Rules)),
		threshold: c.threshold(),
		window:    int64(c.Timespan),
		keys:      lru.New[corrKey](),
	}
	plain := &compiler{}
	for _, g := range c.GroupBy {
		get, _ := plain.getter(g)
		rt.groupGet = append(rt.groupGet, get)
	}
	if c.Field != "" {
		rt.fieldGet, _ = plain.getter(c.Field)
	}
	rt.valueCap = max(2*rt.threshold, 256)
	return rt
}

// sweep drops keys whose window and suppression have passed (TTL), at most
// once per window of event time.
func (rt *corrRT) sweep(now int64) {
	if rt.lastSweep != 0 && now-rt.lastSweep < rt.window {
		return
	}
	rt.lastSweep = now
	rt.keys.Sweep(func(k *corrKey) bool { return now-k.last >= rt.window && k.suppressed <= now })
}

func (rt *corrRT) groupKey(ev *schema.Event) (key string, vals []string, empty bool) {
	return lru.GroupKey(len(rt.groupGet), func(i int) string {
		v, _ := rt.groupGet[i](ev)
		return v
	})
}

// observe feeds a match of detection rule base to correlation rule ci.
func (s *Set) observe(ci, base int, ev *schema.Event) (schema.Alert, bool) {
	rt := s.corr[ci]
	c := rt.rule.Correlation
	cs := &s.counters[ci]
	counting := c.Type == CorrEventCount || c.Type == CorrValueCount
	if counting && rt.lastEvent == s.events {
		return schema.Alert{}, false // one event counts once
	}
	rt.lastEvent = s.events
	cs.Matched++
	key, vals, empty := rt.groupKey(ev)
	if empty {
		cs.SkippedEmptyKey++
		return schema.Alert{}, false
	}
	var dv string
	if c.Type == CorrValueCount {
		v, _ := rt.fieldGet(ev)
		if v == "" {
			cs.SkippedEmptyValue++
			return schema.Alert{}, false
		}
		dv = strings.ToLower(v)
	}
	t := nanos(ev.Timestamp)
	rt.sweep(t)
	n, created, evicted := rt.keys.Upsert(key, s.maxKeys)
	cs.Evictions += uint64(evicted)
	k := &n.V
	if created {
		k.last = t
	}
	k.group = vals
	k.last = max(k.last, t)
	e := evid{t: t, id: ev.ID}
	switch c.Type {
	case CorrEventCount:
		return rt.count(n, e, ev)
	case CorrValueCount:
		return rt.distinct(n, dv, e, ev)
	default:
		pos := slices.Index(rt.refs, base)
		return rt.temporal(n, pos, e, ev, c.Type == CorrTemporalOrdered)
	}
}

func (rt *corrRT) count(n *lru.Node[corrKey], e evid, ev *schema.Event) (schema.Alert, bool) {
	k := &n.V
	now, w := k.last, rt.window
	i := len(k.ring)
	for i > 0 && k.ring[i-1].t > e.t {
		i--
	}
	k.ring = slices.Insert(k.ring, i, e)
	drop := max(0, len(k.ring)-rt.threshold)
	for drop < len(k.ring) && now-k.ring[drop].t >= w {
		drop++
	}
	if drop > 0 {
		k.ring = append(k.ring[:0], k.ring[drop:]...)
	}
	if len(k.ring) < rt.threshold || now < k.suppressed {
		return schema.Alert{}, false
	}
	a := rt.alert(ev, n, slices.Clone(k.ring), nil)
	k.ring = k.ring[:0]
	k.suppressed = now + w
	return a, true
}

func (rt *corrRT) distinct(n *lru.Node[corrKey], v string, e evid, ev *schema.Event) (schema.Alert, bool) {
	k := &n.V
	now, w := k.last, rt.window
	if k.vals == nil {
		k.vals = make(map[string]evid, min(rt.threshold, 16))
	}
	window.Add(k.vals, v, e, rt.valueCap, now, w)
	if len(k.vals) < rt.threshold || now < k.suppressed {
		return schema.Alert{}, false
	}
	window.Expire(k.vals, now, w)
	if len(k.vals) < rt.threshold {
		return schema.Alert{}, false
	}
	values, evs := window.Collect(k.vals)
	a := rt.alert(ev, n, evs, values)
	clear(k.vals)
	k.suppressed = now + w
	return a, true
}

// Time is the event time of e (window.Timed).
func (e evid) Time() int64 { return e.t }

// temporal records a match of the pos-th referenced rule. Unordered: fire
// when every referenced rule matched within the timespan. Ordered: a step
// only counts after the previous step, within the timespan of the first.
func (rt *corrRT) temporal(n *lru.Node[corrKey], pos int, e evid, ev *schema.Event, ordered bool) (schema.Alert, bool) {
	k := &n.V
	if k.steps == nil {
		k.steps = make([]evid, len(rt.refs))
	}
	now, w := k.last, rt.window
	if now < k.suppressed {
		return schema.Alert{}, false
	}
	for i := range k.steps {
		if k.steps[i].id != "" && now-k.steps[i].t >= w {
			k.steps[i] = evid{}
		}
	}
	if ordered {
		if pos == 0 {
			if k.steps[0].id == "" || !anySet(k.steps[1:]) {
				k.steps[0] = e
			}
		} else if prev := k.steps[pos-1]; prev.id != "" && prev.t <= e.t && k.steps[pos].id == "" {
			k.steps[pos] = e
		}
	} else {
		k.steps[pos] = e
	}
	if anyUnset(k.steps) {
		return schema.Alert{}, false
	}
	evs := slices.Clone(k.steps)
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].t < evs[j].t })
	if evs[len(evs)-1].t-evs[0].t >= w {
		return schema.Alert{}, false
	}
	a := rt.alert(ev, n, evs, nil)
	clear(k.steps)
	k.suppressed = now + w
	return a, true
}

func anySet(s []evid) bool {
	for _, e := range s {
		if e.id != "" {
			return true
		}
	}
	return false
}

func anyUnset(s []evid) bool {
	for _, e := range s {
		if e.id == "" {
			return true
		}
	}
	return false
}

// alert builds a correlation alert from chronological evidence; entities
// come from ev, the last evidence event.
func (rt *corrRT) alert(ev *schema.Event, n *lru.Node[corrKey], evs []evid, values []string) schema.Alert {
	r := rt.rule
	c := r.Correlation
	a := baseAlert(r, ev)
	alerts.Window(&a, r.ID, n.Key, len(evs), func(i int) (int64, string) { return evs[i].t, evs[i].id },
		values, c.GroupBy, n.V.group)
	var b strings.Builder
	b.WriteString(r.Title)
	b.WriteString(": ")
	for i, g := range c.GroupBy {
		fmt.Fprintf(&b, "%s %s, ", g, n.V.group[i])
	}
	switch c.Type {
	case CorrValueCount:
		fmt.Fprintf(&b, "%d distinct %s in %s", a.Count, c.Field, c.Timespan)
	case CorrTemporal, CorrTemporalOrdered:
		fmt.Fprintf(&b, "%d related rules matched in %s", a.Count, c.Timespan)
	default:
		fmt.Fprintf(&b, "%d events in %s", a.Count, c.Timespan)
	}
	a.Message = b.String()
	return a
}
