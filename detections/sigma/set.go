package sigma

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/castellan-itdr/castellan/detections/internal/alerts"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// DefaultMaxKeysPerRule is the default bound on group keys per correlation
// rule.
const DefaultMaxKeysPerRule = 100_000

// Options tune a Set.
type Options struct {
	// MaxKeysPerRule bounds the group keys one correlation rule holds; when
	// full, the least recently updated key is evicted (and counted). 0
	// means DefaultMaxKeysPerRule.
	MaxKeysPerRule int
}

// RuleStats are one rule's counters.
type RuleStats struct {
	Rule      string `json:"rule"`
	Evaluated uint64 `json:"evaluated"` // events the rule's detection was evaluated on
	Matched   uint64 `json:"matched"`   // events that satisfied it (correlations: events observed)
	Alerts    uint64 `json:"alerts"`
	Evictions uint64 `json:"evictions"`
	// SkippedEmptyKey counts events whose group-by values were all empty.
	SkippedEmptyKey uint64 `json:"skipped_empty_key"`
	// SkippedEmptyValue counts value_count events with an empty field.
	SkippedEmptyValue uint64 `json:"skipped_empty_value"`
	Keys              int    `json:"keys"`
}

// Stats are the Set's counters: totals and per rule (in rule order).
type Stats struct {
	Events    uint64      `json:"events"`
	Evaluated uint64      `json:"evaluated"`
	Matched   uint64      `json:"matched"`
	Alerts    uint64      `json:"alerts"`
	Evictions uint64      `json:"evictions"`
	Keys      int         `json:"keys"`
	Rules     []RuleStats `json:"rules"`
}

// Set evaluates events against a fixed set of Sigma rules. It is not safe
// for concurrent use: the pipeline serializes calls to Process, Snapshot,
// Restore and Stats.
type Set struct {
	rules    []*Rule
	units    []setUnit
	chans    map[string]*chanIndex // by exact channel name
	chanList []string              // channel names, for case-insensitive lookup
	anyChan  *chanIndex            // events of channels no rule names
	counters []RuleStats
	emits    []bool    // detection rule emits its own alerts
	feeds    [][]int   // detection rule → correlation rules it feeds
	corr     []*corrRT // parallel to rules; nil for detection rules
	maxKeys  int
	events   uint64
}

type setUnit struct {
	rule int
	tree node
}

// chanIndex holds candidate unit lists for one channel: by event id, and
// for any other event id.
type chanIndex struct {
	byCode map[string][]int
	other  []int
}

// NewSet builds a Set. Rule ids must be unique and every correlation
// rule's references must resolve (by id or name) to detection rules in
// rules. Detection rules referenced by a correlation rule emit no alerts of
// their own unless that correlation sets generate: true.
func NewSet(rules []*Rule, o Options) (*Set, error) {
	s := &Set{
		rules:    slices.Clone(rules),
		chans:    map[string]*chanIndex{},
		counters: make([]RuleStats, len(rules)),
		emits:    make([]bool, len(rules)),
		feeds:    make([][]int, len(rules)),
		corr:     make([]*corrRT, len(rules)),
		maxKeys:  o.MaxKeysPerRule,
	}
	if s.maxKeys <= 0 {
		s.maxKeys = DefaultMaxKeysPerRule
	}
	seen := map[string]bool{}
	pos := map[*Rule]int{}
	for i, r := range s.rules {
		if r == nil {
			return nil, fmt.Errorf("sigma: rule %d is nil", i)
		}
		if seen[r.ID] {
			return nil, fmt.Errorf("sigma: duplicate rule id %q", r.ID)
		}
		seen[r.ID] = true
		pos[r] = i
		s.counters[i].Rule = r.ID
		s.emits[i] = r.Correlation == nil
	}
	byRef := refIndex(s.rules)
	for i, r := range s.rules {
		if r.Correlation == nil {
			continue
		}
		if err := resolveRefs(r, byRef); err != nil {
			return nil, fmt.Errorf("sigma: rule %s: %w", r.ID, err)
		}
		rt := newCorrRT(r)
		for j, ref := range r.Correlation.Rules {
			b := pos[byRef[ref]]
			rt.refs[j] = b
			if !slices.Contains(s.feeds[b], i) {
				s.feeds[b] = append(s.feeds[b], i)
			}
			if !r.Correlation.Generate {
				s.emits[b] = false
			}
		}
		s.corr[i] = rt
	}
	s.buildIndex()
	return s, nil
}

func (s *Set) buildIndex() {
	type raw struct {
		byCode map[string][]int
		other  []int
	}
	perChan := map[string]*raw{}
	anyRaw := &raw{byCode: map[string][]int{}}
	get := func(ch string) *raw {
		r := perChan[ch]
		if r == nil {
			r = &raw{byCode: map[string][]int{}}
			perChan[ch] = r
		}
		return r
	}
	for i, r := range s.rules {
		for _, u := range r.units {
			ui := len(s.units)
			s.units = append(s.units, setUnit{rule: i, tree: u.tree})
			dsts := []*raw{anyRaw}
			if len(u.channels) > 0 {
				dsts = dsts[:0]
				for _, ch := range u.channels {
					dsts = append(dsts, get(ch))
				}
			}
			for _, d := range dsts {
				if len(u.eventIDs) == 0 {
					d.other = append(d.other, ui)
					continue
				}
				for _, id := range u.eventIDs {
					d.byCode[id] = append(d.byCode[id], ui)
				}
			}
		}
	}
	merge := func(lists ...[]int) []int {
		var all []int
		for _, l := range lists {
			all = append(all, l...)
		}
		sort.Ints(all)
		return slices.Compact(all)
	}
	finish := func(r *raw) *chanIndex {
		ci := &chanIndex{byCode: map[string][]int{}, other: merge(r.other, anyRaw.other)}
		for code, l := range r.byCode {
			ci.byCode[code] = merge(l, r.other, anyRaw.byCode[code], anyRaw.other)
		}
		for code, l := range anyRaw.byCode {
			if _, ok := ci.byCode[code]; !ok {
				ci.byCode[code] = merge(l, r.other, anyRaw.other)
			}
		}
		return ci
	}
	for ch, r := range perChan {
		s.chans[ch] = finish(r)
		s.chanList = append(s.chanList, ch)
	}
	sort.Strings(s.chanList)
	s.anyChan = finish(&raw{byCode: map[string][]int{}})
}

// channelIndex finds the candidate lists for the event's channel: exact
// name, then case-insensitive, then (for ForwardedEvents or no channel) by
// provider.
func (s *Set) channelIndex(ev *schema.Event) *chanIndex {
	ch := ev.Event.Channel
	if ci, ok := s.chans[ch]; ok {
		return ci
	}
	for _, name := range s.chanList {
		if len(name) == len(ch) && strings.EqualFold(name, ch) {
			return s.chans[name]
		}
	}
	if ch == "" || strings.EqualFold(ch, "ForwardedEvents") {
		for p, c := range providerChannels {
			if len(p) == len(ev.Event.Provider) && strings.EqualFold(p, ev.Event.Provider) {
				if ci, ok := s.chans[c]; ok {
					return ci
				}
			}
		}
	}
	return s.anyChan
}

// Rules returns the Set's rules in evaluation order.
func (s *Set) Rules() []*Rule { return slices.Clone(s.rules) }

// Process evaluates one event against every rule and calls emit for each
// alert. Rules are indexed by channel and event id, so an event is only
// evaluated by the rules that can match it; a non-matching evaluation
// allocates nothing. Not safe for concurrent use.
func (s *Set) Process(ev *schema.Event, emit func(schema.Alert)) {
	s.events++
	ci := s.channelIndex(ev)
	list, ok := ci.byCode[ev.Event.Code]
	if !ok {
		list = ci.other
	}
	last := -1
	for _, ui := range list {
		u := &s.units[ui]
		if u.rule == last {
			continue // another target of a rule that already matched
		}
		c := &s.counters[u.rule]
		c.Evaluated++
		if !u.tree.eval(ev) {
			continue
		}
		last = u.rule
		c.Matched++
		if s.emits[u.rule] {
			c.Alerts++
			emit(matchAlert(s.rules[u.rule], ev))
		}
		for _, ci := range s.feeds[u.rule] {
			if a, fired := s.observe(ci, u.rule, ev); fired {
				s.counters[ci].Alerts++
				emit(a)
			}
		}
	}
}

// Stats returns a copy of the counters.
func (s *Set) Stats() Stats {
	st := Stats{Events: s.events, Rules: slices.Clone(s.counters)}
	for i := range st.Rules {
		if c := s.corr[i]; c != nil {
			st.Rules[i].Keys = c.keys.Len()
		}
		rs := st.Rules[i]
		st.Evaluated += rs.Evaluated
		st.Matched += rs.Matched
		st.Alerts += rs.Alerts
		st.Evictions += rs.Evictions
		st.Keys += rs.Keys
	}
	return st
}

// matchAlert builds the alert of a detection rule.
func matchAlert(r *Rule, ev *schema.Event) schema.Alert {
	a := baseAlert(r, ev)
	alerts.Match(&a, r.ID, r.Title, ev)
	return a
}

func baseAlert(r *Rule, ev *schema.Event) schema.Alert {
	return alerts.New(schema.RuleRef{ID: r.ID, Title: r.Title, Description: r.Description, Kind: r.Kind()}, r.Severity,
		schema.Tactic{ID: r.Tactic, Name: r.tacticName},
		schema.Technique{ID: r.Technique, Name: r.techniqueName}, ev)
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }
