package engine

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/castellan-itdr/castellan/detections/internal/window"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// progress is one sequence step's evidence for one key: the newest Count
// events (count mode) or a capped value → last-seen map (distinct mode),
// inside a sliding window.
type progress struct {
	ring []evid
	vals map[string]evid
}

// add records an event (dv is its distinct value in distinct mode) and
// drops what fell out of the window w ending at now. It returns the number
// of distinct values evicted by the cap.
func (p *progress) add(st *Step, t int64, id, dv string, now, w int64) (evicted int) {
	if st.distinctGet == nil {
		i := len(p.ring)
		for i > 0 && p.ring[i-1].t > t {
			i--
		}
		p.ring = slices.Insert(p.ring, i, evid{t: t, id: id})
		p.slide(st, now, w)
		return 0
	}
	if p.vals == nil {
		p.vals = make(map[string]evid, min(st.Count, 16))
	}
	if old, ok := p.vals[dv]; ok {
		if t >= old.t {
			p.vals[dv] = evid{t: t, id: id}
		}
		return 0
	}
	if len(p.vals) >= st.distinctCap {
		window.Expire(p.vals, now, w)
		if len(p.vals) >= st.distinctCap {
			delete(p.vals, oldestValue(p.vals))
			evicted++
		}
	}
	p.vals[dv] = evid{t: t, id: id}
	return evicted
}

// oldestValue returns the value seen longest ago (ties: smallest value).
func oldestValue(m map[string]evid) string {
	oldest, ot := "", int64(0)
	first := true
	for val, e := range m {
		if first || e.t < ot || e.t == ot && val < oldest {
			oldest, ot, first = val, e.t, false
		}
	}
	return oldest
}

// slide drops evidence older than the window and, in count mode, all but
// the newest Count events.
func (p *progress) slide(st *Step, now, w int64) {
	if st.distinctGet != nil {
		window.Expire(p.vals, now, w)
		return
	}
	drop := max(0, len(p.ring)-st.Count)
	for drop < len(p.ring) && now-p.ring[drop].t >= w {
		drop++
	}
	if drop > 0 {
		p.ring = append(p.ring[:0], p.ring[drop:]...)
	}
}

// complete reports whether the step is satisfied inside the window.
func (p *progress) complete(st *Step, now, w int64) bool {
	p.slide(st, now, w)
	if st.distinctGet != nil {
		return len(p.vals) >= st.Count
	}
	return len(p.ring) >= st.Count
}

// evidence returns the step's evidence in time order and, in distinct mode,
// its sorted values.
func (p *progress) evidence() ([]evid, []string) {
	if p.vals == nil {
		return slices.Clone(p.ring), nil
	}
	values := make([]string, 0, len(p.vals))
	for v := range p.vals {
		values = append(values, v)
	}
	sort.Strings(values)
	evs := make([]evid, len(values))
	for i, v := range values {
		evs[i] = p.vals[v]
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].t < evs[j].t })
	return evs, values
}

func (p *progress) reset() {
	p.ring = p.ring[:0]
	clear(p.vals)
}

func (p *progress) empty() bool { return len(p.ring) == 0 && len(p.vals) == 0 }

// seqKey is one group key of a sequence rule.
type seqKey struct {
	group []string
	last  int64    // latest event time seen for the key
	first progress // step 1, always tracked (a fresh start while later steps wait)
	step  int      // index of the step being waited for; 0 = not started
	start int64    // time of the first evidence of the started sequence
	cur   progress // evidence of the current step (step >= 1)
	done  []evid   // evidence of completed steps, time order, at most MaxEvidence
	count int      // evidence events of completed steps
	vals  []string // distinct values of completed steps, at most maxAlertValues
}

// seqEval evaluates a sequence rule.
type seqEval struct {
	keyed[seqKey]
}

// stepMatches reports whether the event satisfies step i.
func (r *Rule) stepMatches(i int, ev *schema.Event) bool {
	st := &r.Steps[i]
	if !allHold(st.where, ev) {
		return false
	}
	return len(st.not) == 0 || !allHold(st.not, ev)
}

func (x *seqEval) process(ev *schema.Event, c *RuleStats, emit func(schema.Alert)) {
	r := x.r
	if len(r.where) > 0 && !r.matches(ev) {
		return
	}
	var mask uint32
	for i := range r.Steps {
		if r.stepMatches(i, ev) {
			mask |= 1 << i
		}
	}
	if mask == 0 || !admit(x.tune, ev, c) {
		return
	}
	key, group, empty := groupKey(r, ev)
	if empty {
		c.SkippedEmptyKey++
		return
	}
	if mask&1 == 0 && x.keys.Get(key) == nil {
		return // only the first step starts a key
	}
	t, w := nanos(ev.Timestamp), int64(r.Window)
	x.sweep(t)
	n, _ := x.key(key, c)
	k := &n.V
	k.group = group
	k.last = max(k.last, t)
	now := k.last

	// A started sequence that outlived its window restarts from the step-1
	// evidence gathered meanwhile, or from scratch.
	if k.step > 0 && now-k.start >= w {
		x.restart(k, now)
	}
	// One event advances one step: the awaited step first, else step 1.
	s := k.step
	if s == 0 || mask&(1<<s) == 0 {
		if mask&1 == 0 {
			return
		}
		s = 0
	}
	st := &r.Steps[s]
	var dv string
	if st.distinctGet != nil {
		if dv = strings.ToLower(st.distinctGet(ev)); dv == "" {
			c.SkippedEmptyValue++
			return
		}
	}
	p := &k.cur
	if s == 0 {
		p = &k.first
	}
	c.Evictions += uint64(p.add(st, t, ev.ID, dv, now, w))
	if !p.complete(st, now, w) {
		return
	}
	if s == 0 {
		if k.step > 0 {
			return // held as a fresh start while later steps are awaited
		}
		x.begin(k, now)
	} else {
		x.completeStep(k, p)
		k.step++
	}
	if k.step < len(r.Steps) {
		return
	}
	a := x.alert(ev, n.Key, k)
	x.keys.Remove(n)
	c.Alerts++
	emit(a)
}

// begin starts the sequence from the completed step-1 evidence.
func (x *seqEval) begin(k *seqKey, now int64) {
	k.done, k.count, k.vals = k.done[:0], 0, k.vals[:0]
	x.completeStep(k, &k.first)
	k.start = now
	if len(k.done) > 0 {
		k.start = k.done[0].t
	}
	k.step = 1
	k.cur.reset()
}

// completeStep moves a step's evidence into done.
func (x *seqEval) completeStep(k *seqKey, p *progress) {
	evs, values := p.evidence()
	k.count += len(evs)
	k.done = append(k.done, evs...)
	sort.SliceStable(k.done, func(i, j int) bool { return k.done[i].t < k.done[j].t })
	if len(k.done) > schema.MaxEvidence {
		k.done = k.done[:schema.MaxEvidence]
	}
	for _, v := range values {
		if len(k.vals) < maxAlertValues {
			k.vals = append(k.vals, v)
		}
	}
	p.reset()
}

// restart abandons an expired sequence.
func (x *seqEval) restart(k *seqKey, now int64) {
	k.step, k.start = 0, 0
	k.done, k.count, k.vals = k.done[:0], 0, k.vals[:0]
	k.cur.reset()
	if k.first.complete(&x.r.Steps[0], now, int64(x.r.Window)) {
		x.begin(k, now)
	}
}

// sweep drops keys whose evidence all fell out of the window, at most once
// per window of event time.
func (x *seqEval) sweep(now int64) {
	w := int64(x.r.Window)
	x.sweepEvery(now, w, func(k *seqKey) bool { return now-k.last >= w })
}

func (x *seqEval) alert(ev *schema.Event, key string, k *seqKey) schema.Alert {
	r := x.r
	a := baseAlert(r, ev)
	evs := k.done
	first, last := evs[0].t, evs[0].t
	ids := make([]string, 0, len(evs))
	for _, e := range evs {
		first, last = min(first, e.t), max(last, e.t)
		ids = append(ids, e.id)
	}
	last = max(last, k.last)
	a.ID = schema.AlertID(r.ID, key, evs[0].id)
	a.Timestamp = fromNanos(last)
	a.FirstSeen, a.LastSeen = fromNanos(first), fromNanos(last)
	a.Count = k.count
	a.EventIDs = ids
	if len(k.vals) > 0 {
		a.Values = slices.Clone(k.vals)
	}
	a.GroupKey = groupMap(r.GroupBy, k.group)
	var b strings.Builder
	messageHead(&b, r, ev)
	for i, st := range r.Steps {
		if i > 0 {
			b.WriteString(" then ")
		}
		b.WriteString(st.Name)
		switch {
		case st.Distinct != "":
			fmt.Fprintf(&b, " (%d distinct %s)", st.Count, st.Distinct)
		case st.Count > 1:
			fmt.Fprintf(&b, " (%d events)", st.Count)
		}
	}
	fmt.Fprintf(&b, " within %s", r.Window)
	a.Message = b.String()
	return a
}

// groupMap pairs group_by paths with their values.
func groupMap(paths, vals []string) map[string]string {
	if len(paths) == 0 || len(vals) != len(paths) {
		return nil
	}
	m := make(map[string]string, len(paths))
	for i, p := range paths {
		m[p] = vals[i]
	}
	return m
}
