package engine

import (
	"strings"

	"github.com/castellan-itdr/castellan/detections/internal/alerts"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// mpKey is one join key of a missing_predecessor rule.
type mpKey struct {
	group      []string
	last       int64 // latest update
	pred       int64 // latest predecessor time; 0 = none
	suppressed int64 // no alert for the key before this time
}

// pendingEv is a judged event waiting out the grace period, with the
// entities its alert needs.
type pendingEv struct {
	t      int64
	id     string
	key    string
	group  []string
	user   schema.User
	source schema.Endpoint
	host   schema.Host
	target schema.Target
}

// mpEval evaluates a missing_predecessor rule. Events that satisfy where
// are buffered (FIFO, at most maxKeys) and judged once the engine's event
// time passes their time plus grace: they alert when no predecessor with
// the same key was seen at or after their time minus within.
type mpEval struct {
	keyed[mpKey]
	pending []pendingEv // FIFO; head at pending[0]; a window of buf
	buf     []pendingEv // pending's backing array, from its start
	start   int64       // time of the first event the rule selected; 0 = none
}

func (x *mpEval) size() (int, int) { return x.keys.Len(), len(x.pending) }

func (r *Rule) predMatches(ev *schema.Event) bool {
	if !allHold(r.predWhere, ev) {
		return false
	}
	return len(r.predNot) == 0 || !allHold(r.predNot, ev)
}

func (x *mpEval) process(ev *schema.Event, c *RuleStats, emit func(schema.Alert)) {
	r := x.r
	isPred, isEv := r.predMatches(ev), r.matches(ev)
	if !isPred && !isEv {
		return
	}
	t := nanos(ev.Timestamp)
	if x.start == 0 {
		x.start = t
	}
	x.sweep(t)
	if isPred {
		// Predecessors are never excluded by tuning: dropping one could
		// only raise alerts.
		c.Matched++
		if key, group, empty := groupKeyWith(r.predGetters, ev); empty {
			c.SkippedEmptyKey++
		} else {
			n, _ := x.key(key, c)
			if n.V.group == nil {
				n.V.group = group
			}
			n.V.last = max(n.V.last, t)
			n.V.pred = max(n.V.pred, t)
		}
	}
	if !isEv {
		return
	}
	if isPred {
		c.Matched-- // counted once
	}
	if !admit(x.tune, ev, c) {
		return
	}
	key, group, empty := groupKey(r, ev)
	if empty {
		c.SkippedEmptyKey++
		return
	}
	if len(x.pending) >= x.maxKeys {
		// Full: judge the oldest now, with a shortened grace.
		c.Evictions++
		x.judge(x.pending[0], c, emit)
		x.pending[0] = pendingEv{}
		x.pending = x.pending[1:]
	}
	x.push(pendingEv{
		t: t, id: ev.ID, key: key, group: group,
		user: alerts.CloneUser(ev.User), source: ev.Source, host: ev.Host,
		target: alerts.Target(ev),
	})
}

// push appends p to the FIFO. Judged events leave at the front, so the
// window pending moves through buf; when it reaches buf's end it is moved
// back to the start (when that frees at least half of buf) instead of
// growing, so a steady stream of held events allocates nothing. A new
// buffer is twice the events held, so the next move back frees half.
func (x *mpEval) push(p pendingEv) {
	if n := len(x.pending); n == cap(x.pending) {
		if n <= cap(x.buf)/2 {
			all := x.buf[:cap(x.buf)]
			copy(all, x.pending)
			clear(all[n:])
			x.pending = all[:n]
		} else {
			x.buf = make([]pendingEv, n, max(2*n, 16))
			copy(x.buf, x.pending)
			x.pending = x.buf
		}
	}
	x.pending = append(x.pending, p)
}

// tick judges the buffered events whose grace has passed at watermark wm.
func (x *mpEval) tick(wm int64, c *RuleStats, emit func(schema.Alert)) {
	g := int64(x.r.Grace)
	for len(x.pending) > 0 && x.pending[0].t+g < wm {
		x.judge(x.pending[0], c, emit)
		x.pending[0] = pendingEv{}
		x.pending = x.pending[1:]
	}
	if len(x.pending) == 0 {
		x.pending = x.buf[:0] // rewind
		if cap(x.buf) > 1024 {
			x.pending, x.buf = nil, nil
		}
	}
}

// flush judges every buffered event.
func (x *mpEval) flush(c *RuleStats, emit func(schema.Alert)) {
	for _, p := range x.pending {
		x.judge(p, c, emit)
	}
	x.pending, x.buf = nil, nil
}

func (x *mpEval) judge(p pendingEv, c *RuleStats, emit func(schema.Alert)) {
	r := x.r
	if p.t-x.start < int64(r.Learning) {
		c.Learning++
		return
	}
	n := x.keys.Get(p.key)
	if n != nil && n.V.pred != 0 && n.V.pred >= p.t-int64(r.Within) {
		return
	}
	if n != nil && p.t < n.V.suppressed {
		return
	}
	n, _ = x.key(p.key, c)
	if n.V.group == nil {
		n.V.group = p.group
	}
	n.V.last = max(n.V.last, p.t)
	n.V.suppressed = p.t + int64(r.Within)
	c.Alerts++
	emit(x.alert(p))
}

func (x *mpEval) alert(p pendingEv) schema.Alert {
	r := x.r
	ev := &schema.Event{ID: p.id, Timestamp: fromNanos(p.t), User: p.user, Source: p.source, Host: p.host, Target: p.target}
	a := baseAlert(r, ev)
	a.ID = schema.AlertID(r.ID, p.key, p.id)
	a.Timestamp = ev.Timestamp
	a.FirstSeen, a.LastSeen = ev.Timestamp, ev.Timestamp
	a.Count = 1
	a.EventIDs = []string{p.id}
	a.GroupKey = groupMap(r.Key, p.group)
	var b strings.Builder
	b.WriteString(r.Title)
	b.WriteString(": ")
	for i, path := range r.Key {
		if i > 0 {
			b.WriteString(", ")
		}
		switch path {
		case "user.name":
			b.WriteString("user " + p.user.Identity())
		case "target.user.name":
			b.WriteString("target user " + p.target.User.Identity())
		default:
			b.WriteString(path + " " + p.group[i])
		}
	}
	b.WriteString(", no predecessor within ")
	b.WriteString(r.Within.String())
	a.Message = b.String()
	return a
}

// sweep drops keys whose predecessor is too old to matter and whose
// suppression has passed, at most once per within of event time.
func (x *mpEval) sweep(now int64) {
	w := int64(x.r.Within)
	horizon := w + int64(x.r.Grace)
	x.sweepEvery(now, w, func(k *mpKey) bool { return now-k.last >= horizon && now-k.pred >= horizon && k.suppressed <= now })
}
