package engine

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/castellan-itdr/castellan/detections/internal/alerts"
	"github.com/castellan-itdr/castellan/detections/internal/lru"
	"github.com/castellan-itdr/castellan/detections/internal/window"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// DefaultMaxKeysPerRule is the default bound on group keys per stateful rule.
const DefaultMaxKeysPerRule = 100_000

// maxAlertValues caps Alert.Values.
const maxAlertValues = alerts.MaxValues

// Options tune an Engine.
type Options struct {
	// MaxKeysPerRule bounds the group keys one stateful rule holds (and the
	// events a missing_predecessor rule buffers); when full, the least
	// recently updated key is evicted. 0 means DefaultMaxKeysPerRule.
	MaxKeysPerRule int
	// Tuning holds per-rule exclusions, threshold overrides and disabled
	// rules. New rejects a tuning that fails Tuning.Validate.
	Tuning Tuning
}

// Engine evaluates events against a fixed set of compiled rules. It is not
// safe for concurrent use: the pipeline serializes calls to Process,
// Snapshot, Restore and Stats.
type Engine struct {
	rules     []*Rule          // effective rules (threshold overrides applied)
	evals     []evaluator      // parallel to rules; nil for match and disabled rules
	tunes     []*ruleTune      // parallel to rules; nil when untuned
	counters  []RuleStats      // parallel to rules
	judges    []int            // missing_predecessor rules, judged on every event
	byKind    map[string][]int // rules of an event.kind plus free, ascending
	free      []int            // rules no index constrains (any kind, code and action)
	routes    []route          // rules of no kind routed on event.code or event.action
	maxKeys   int
	events    uint64
	watermark int64 // latest event time seen, Unix nanoseconds
}

// RuleStats are one rule's counters.
type RuleStats struct {
	Rule      string `json:"rule"`
	Disabled  bool   `json:"disabled,omitempty"` // disabled by tuning
	Evaluated uint64 `json:"evaluated"`          // events the rule's predicate was evaluated on
	Matched   uint64 `json:"matched"`            // events that satisfied the rule and were not excluded
	Excluded  uint64 `json:"excluded"`           // events that satisfied the rule but tuning excluded
	Alerts    uint64 `json:"alerts"`
	// Evictions counts state dropped by a cap: group keys evicted because
	// the rule held MaxKeysPerRule, distinct and new_value values evicted
	// by their per-key cap, buffered events judged early because the
	// buffer was full.
	Evictions uint64 `json:"evictions"`
	// SkippedEmptyKey counts matching events whose group_by values were all empty.
	SkippedEmptyKey uint64 `json:"skipped_empty_key"`
	// SkippedEmptyValue counts matching events with an empty distinct field.
	SkippedEmptyValue uint64 `json:"skipped_empty_value"`
	// Learning counts missing_predecessor events judged during the
	// learning period (never alerted).
	Learning uint64 `json:"learning,omitempty"`
	Keys     int    `json:"keys"`              // group keys held now
	Pending  int    `json:"pending,omitempty"` // events buffered now (missing_predecessor)
}

// Stats are the engine's counters: totals and per rule (in rule order).
type Stats struct {
	Events            uint64      `json:"events"`
	Evaluated         uint64      `json:"evaluated"`
	Matched           uint64      `json:"matched"`
	Excluded          uint64      `json:"excluded"`
	Alerts            uint64      `json:"alerts"`
	Evictions         uint64      `json:"evictions"`
	SkippedEmptyKey   uint64      `json:"skipped_empty_key"`
	SkippedEmptyValue uint64      `json:"skipped_empty_value"`
	Keys              int         `json:"keys"`
	Pending           int         `json:"pending,omitempty"`
	Rules             []RuleStats `json:"rules"`
}

// New builds an engine over rules (evaluated, and alerts emitted, in the
// given order). Rule ids must be unique and opts.Tuning must be valid for
// the rules.
func New(rules []*Rule, opts Options) (*Engine, error) {
	e := &Engine{
		rules:    slices.Clone(rules),
		evals:    make([]evaluator, len(rules)),
		tunes:    make([]*ruleTune, len(rules)),
		counters: make([]RuleStats, len(rules)),
		byKind:   map[string][]int{},
		maxKeys:  opts.MaxKeysPerRule,
	}
	if e.maxKeys <= 0 {
		e.maxKeys = DefaultMaxKeysPerRule
	}
	seen := map[string]bool{}
	for i, r := range e.rules {
		if r == nil {
			return nil, fmt.Errorf("engine: rule %d is nil", i)
		}
		if seen[r.ID] {
			return nil, fmt.Errorf("engine: duplicate rule id %q", r.ID)
		}
		seen[r.ID] = true
	}
	if err := opts.Tuning.Validate(e.rules); err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	kinded := map[string][]int{}
	var unkinded []int
	for i, r := range e.rules {
		e.counters[i].Rule = r.ID
		tune, _ := opts.Tuning.tuneFor(r.ID) // validated above
		if tune != nil {
			if tune.disabled {
				e.counters[i].Disabled = true
				continue
			}
			if tune.threshold > 0 && hasThreshold(r) {
				r = r.withThreshold(tune.threshold)
				e.rules[i] = r
			}
			if len(tune.accounts) > 0 || len(tune.hosts) > 0 || len(tune.addrs) > 0 {
				e.tunes[i] = tune
			}
		}
		e.evals[i] = e.newEvaluator(r, e.tunes[i])
		if r.Kind == KindMissingPredecessor {
			e.judges = append(e.judges, i)
		}
		if len(r.kindValues) == 0 {
			unkinded = append(unkinded, i)
			continue
		}
		for _, k := range r.kindValues {
			if !slices.Contains(kinded[k], i) {
				kinded[k] = append(kinded[k], i)
			}
		}
	}
	e.routes, e.free = buildRoutes(e.rules, unkinded)
	// Each kind's candidate list holds its rules and the unconstrained
	// ones, in rule order; Process merges it with the routed rules, so
	// alerts come out in rule order.
	for k, idx := range kinded {
		all := append(slices.Clone(idx), e.free...)
		sort.Ints(all)
		e.byKind[k] = slices.Compact(all)
	}
	return e, nil
}

// newEvaluator returns fresh state for a rule, nil for match rules.
func (e *Engine) newEvaluator(r *Rule, tune *ruleTune) evaluator {
	switch r.Kind {
	case KindThreshold, KindDistinct:
		return &thresholdEval{r: r, tune: tune, st: newRuleState(), maxKeys: e.maxKeys}
	case KindSequence:
		return &seqEval{keyed: newKeyed[seqKey](r, tune, e.maxKeys)}
	case KindNewValue:
		return &nvEval{keyed: newKeyed[nvKey](r, tune, e.maxKeys)}
	case KindMissingPredecessor:
		return &mpEval{keyed: newKeyed[mpKey](r, tune, e.maxKeys)}
	case KindTravel:
		return &travelEval{keyed: newKeyed[travelKey](r, tune, e.maxKeys)}
	}
	return nil
}

// Rules returns the engine's rules in evaluation order, with tuning
// threshold overrides applied.
func (e *Engine) Rules() []*Rule { return slices.Clone(e.rules) }

// Process evaluates one event against every rule and calls emit for each
// alert, in rule order (alerts of missing_predecessor rules whose buffered
// events this event's time releases come first). Not safe for concurrent
// use. Rules whose event.kind, event.code or event.action constraint
// excludes the event are not evaluated at all, and evaluating a rule that does not match allocates
// nothing.
func (e *Engine) Process(ev *schema.Event, emit func(schema.Alert)) {
	e.events++
	if t := nanos(ev.Timestamp); t > e.watermark {
		e.watermark = t
	}
	for _, i := range e.judges {
		e.evals[i].(*mpEval).tick(e.watermark, &e.counters[i], emit)
	}
	idx, ok := e.byKind[string(ev.Event.Kind)]
	if !ok {
		idx = e.free
		if hasUpper(string(ev.Event.Kind)) {
			if i, ok := e.byKind[strings.ToLower(string(ev.Event.Kind))]; ok {
				idx = i
			}
		}
	}
	var r0, r1 []int
	if len(e.routes) > 0 {
		r0 = e.routes[0].lookup(e.routes[0].get(ev))
		if len(e.routes) > 1 {
			r1 = e.routes[1].lookup(e.routes[1].get(ev))
		}
	}
	if len(r0) == 0 && len(r1) == 0 {
		for _, i := range idx {
			e.evaluate(i, ev, emit)
		}
		return
	}
	// Merge the ascending lists (disjoint: a rule is in one index only).
	for len(idx)+len(r0)+len(r1) > 0 {
		i := -1
		switch {
		case len(idx) > 0 && (len(r0) == 0 || idx[0] < r0[0]) && (len(r1) == 0 || idx[0] < r1[0]):
			i, idx = idx[0], idx[1:]
		case len(r0) > 0 && (len(r1) == 0 || r0[0] < r1[0]):
			i, r0 = r0[0], r0[1:]
		default:
			i, r1 = r1[0], r1[1:]
		}
		e.evaluate(i, ev, emit)
	}
}

// evaluate runs rule i on an event its indexes admit.
func (e *Engine) evaluate(i int, ev *schema.Event, emit func(schema.Alert)) {
	r, c := e.rules[i], &e.counters[i]
	c.Evaluated++
	if x := e.evals[i]; x != nil {
		x.process(ev, c, emit)
		return
	}
	if !r.matches(ev) || !admit(e.tunes[i], ev, c) {
		return
	}
	c.Alerts++
	emit(matchAlert(r, ev))
}

// Flush judges every event a missing_predecessor rule still buffers for its
// grace period, as if event time had moved past it, and emits the alerts.
// Call it at the end of a finite input (a replay, a rule sample); a
// long-running pipeline does not need it, the buffered events are part of
// the Snapshot.
func (e *Engine) Flush(emit func(schema.Alert)) {
	for _, i := range e.judges {
		e.evals[i].(*mpEval).flush(&e.counters[i], emit)
	}
}

// Stats returns a copy of the counters.
func (e *Engine) Stats() Stats {
	s := Stats{Events: e.events, Rules: slices.Clone(e.counters)}
	for i := range s.Rules {
		if x := e.evals[i]; x != nil {
			s.Rules[i].Keys, s.Rules[i].Pending = x.size()
		}
		rs := s.Rules[i]
		s.Evaluated += rs.Evaluated
		s.Matched += rs.Matched
		s.Excluded += rs.Excluded
		s.Alerts += rs.Alerts
		s.Evictions += rs.Evictions
		s.SkippedEmptyKey += rs.SkippedEmptyKey
		s.SkippedEmptyValue += rs.SkippedEmptyValue
		s.Keys += rs.Keys
		s.Pending += rs.Pending
	}
	return s
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

// nanos is the event time in Unix nanoseconds; zero time is 0.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// evid is one piece of evidence: an event time and id.
type evid struct {
	t  int64
	id string
}

// ruleState is the bounded state of one stateful rule: group keys in
// update order (least recently updated first), removed keys kept for reuse.
type ruleState struct {
	keys      *lru.List[keyState]
	lastSweep int64
}

// maxSpareKeys bounds the removed keys a rule keeps for reuse: keys come
// and go with every window, and reusing one saves its map and ring.
const maxSpareKeys = 64

// keyState is one group key's window.
type keyState struct {
	group      []string        // group_by values as last seen (original case)
	last       int64           // latest evidence time seen for the key
	suppressed int64           // no firing before this time
	ring       []evid          // count mode: last threshold events, ascending time
	vals       map[string]evid // distinct mode: value → last seen
}

func newRuleState() *ruleState {
	keys := lru.New[keyState]()
	keys.Recycle(maxSpareKeys, func(k *keyState) {
		ring, vals := k.ring[:0], k.vals
		clear(vals)
		*k = keyState{ring: ring, vals: vals}
	})
	return &ruleState{keys: keys}
}

// sweep drops keys (from the least recently updated end) whose window and
// suppression have passed. It runs at most once per window of event time.
func (s *ruleState) sweep(now int64, window time.Duration) {
	w := int64(window)
	if s.lastSweep != 0 && now-s.lastSweep < w {
		return
	}
	s.lastSweep = now
	s.keys.Sweep(func(k *keyState) bool { return now-k.last >= w && k.suppressed <= now })
}

// groupKey reads the rule's group_by values. The key string is the
// lower-cased values joined by a unit separator.
func groupKey(r *Rule, ev *schema.Event) (key string, vals []string, empty bool) {
	return groupKeyWith(r.groupGetters, ev)
}

// groupKeyWith is groupKey over explicit getters.
func groupKeyWith(getters []schema.Getter, ev *schema.Event) (key string, vals []string, empty bool) {
	if len(getters) == 1 { // the usual case, on the hot path: no indirect read
		v := getters[0](ev)
		return strings.ToLower(v), []string{v}, v == ""
	}
	return lru.GroupKey(len(getters), func(i int) string { return getters[i](ev) })
}

// observe adds a matching event to the rule's window and reports an alert
// when the rule fires.
func (s *ruleState) observe(r *Rule, ev *schema.Event, c *RuleStats, maxKeys int) (schema.Alert, bool) {
	// One group_by field (the usual case) is looked up without building
	// the key: it is allocated only for a new key.
	var key, one string
	var vals []string
	single := len(r.groupGetters) == 1
	if single {
		one = r.groupGetters[0](ev)
		if one == "" {
			c.SkippedEmptyKey++
			return schema.Alert{}, false
		}
	} else {
		var empty bool
		if key, vals, empty = groupKey(r, ev); empty {
			c.SkippedEmptyKey++
			return schema.Alert{}, false
		}
	}
	var dv string
	if r.distinctGet != nil {
		dv = strings.ToLower(r.distinctGet(ev))
		if dv == "" {
			c.SkippedEmptyValue++
			return schema.Alert{}, false
		}
	}
	t := nanos(ev.Timestamp)
	s.sweep(t, r.Window)
	var n *lru.Node[keyState]
	if single {
		n = s.keys.GetLower(one)
	} else {
		n = s.keys.Get(key)
	}
	if n == nil {
		if single {
			key, vals = strings.ToLower(one), []string{one}
		}
		var evicted int
		n, evicted = s.keys.Insert(key, maxKeys)
		c.Evictions += uint64(evicted)
		n.V.last = t
	} else {
		s.keys.Touch(n)
		if single {
			vals = n.V.group
			if len(vals) != 1 || vals[0] != one {
				vals = []string{one}
			}
		}
	}
	k := &n.V
	k.group = vals
	k.last = max(k.last, t)
	now, w := k.last, int64(r.Window)

	if r.distinctGet != nil {
		return s.observeDistinct(r, ev, n, dv, t, now, w)
	}
	return s.observeCount(r, ev, n, t, now, w)
}

func (s *ruleState) observeCount(r *Rule, ev *schema.Event, n *lru.Node[keyState], t, now, w int64) (schema.Alert, bool) {
	k := &n.V
	if k.ring == nil {
		k.ring = make([]evid, 0, min(r.Threshold, 64))
	}
	// Insert in time order (events are nearly always already in order).
	i := len(k.ring)
	for i > 0 && k.ring[i-1].t > t {
		i--
	}
	k.ring = slices.Insert(k.ring, i, evid{t: t, id: ev.ID})
	// Keep only the newest threshold events inside the window.
	drop := max(0, len(k.ring)-r.Threshold)
	for drop < len(k.ring) && now-k.ring[drop].t >= w {
		drop++
	}
	if drop > 0 {
		k.ring = append(k.ring[:0], k.ring[drop:]...)
	}
	if len(k.ring) < r.Threshold || now < k.suppressed {
		return schema.Alert{}, false
	}
	a := stateAlert(r, ev, n, slices.Clone(k.ring), nil)
	k.ring = k.ring[:0]
	k.suppressed = now + w
	return a, true
}

func (s *ruleState) observeDistinct(r *Rule, ev *schema.Event, n *lru.Node[keyState], v string, t, now, w int64) (schema.Alert, bool) {
	k := &n.V
	if k.vals == nil {
		k.vals = make(map[string]evid, min(r.Threshold, 16))
	}
	window.Add(k.vals, v, evid{t: t, id: ev.ID}, r.distinctCap, now, w)
	if len(k.vals) < r.Threshold || now < k.suppressed {
		return schema.Alert{}, false
	}
	window.Expire(k.vals, now, w)
	if len(k.vals) < r.Threshold {
		return schema.Alert{}, false
	}
	values, evs := window.Collect(k.vals)
	a := stateAlert(r, ev, n, evs, values)
	clear(k.vals)
	k.suppressed = now + w
	return a, true
}

// Time is the event time of e (window.Timed).
func (e evid) Time() int64 { return e.t }

// stateAlert builds the alert of a stateful rule from its chronological
// evidence; entities come from ev, the last evidence event.
func stateAlert(r *Rule, ev *schema.Event, n *lru.Node[keyState], evs []evid, values []string) schema.Alert {
	a := baseAlert(r, ev)
	alerts.Window(&a, r.ID, n.Key, len(evs), func(i int) (int64, string) { return evs[i].t, evs[i].id },
		values, r.GroupBy, n.V.group)
	counted := "events"
	if r.Distinct != "" {
		counted = "distinct " + r.Distinct
	}
	var b strings.Builder
	messageHead(&b, r, ev)
	fmt.Fprintf(&b, "%d %s in %s", a.Count, counted, r.Window)
	a.Message = b.String()
	return a
}

// matchAlert builds the alert of a match rule.
func matchAlert(r *Rule, ev *schema.Event) schema.Alert {
	a := baseAlert(r, ev)
	alerts.Match(&a, r.ID, r.Title, ev)
	return a
}

func baseAlert(r *Rule, ev *schema.Event) schema.Alert {
	return alerts.New(schema.RuleRef{
		ID: r.ID, Title: r.Title, Description: r.Description, Kind: r.Kind,
		MDI: slices.Clone(r.MDI), Distinct: r.Distinct,
	}, r.Severity,
		schema.Tactic{ID: r.Tactic, Name: r.tacticName},
		schema.Technique{ID: r.Technique, Name: r.techniqueName}, ev)
}

// describeGroup renders the group key for a message: "user CORP\jdoe",
// "source 10.0.5.66", "host.name DC01".
func describeGroup(r *Rule, ev *schema.Event) string {
	parts := make([]string, 0, len(r.GroupBy))
	for i, p := range r.GroupBy {
		switch p {
		case "user.name":
			parts = append(parts, "user "+ev.User.Identity())
		case "source.ip":
			parts = append(parts, "source "+r.groupGetters[i](ev))
		case "target.user.name":
			parts = append(parts, "target user "+ev.Target.User.Identity())
		default:
			parts = append(parts, p+" "+r.groupGetters[i](ev))
		}
	}
	return strings.Join(parts, ", ")
}

// messageHead writes the start that alert messages share: "<title>: ",
// then the group key (describeGroup) and ", " when there is one.
func messageHead(b *strings.Builder, r *Rule, ev *schema.Event) {
	b.WriteString(r.Title)
	b.WriteString(": ")
	if g := describeGroup(r, ev); g != "" {
		b.WriteString(g)
		b.WriteString(", ")
	}
}
