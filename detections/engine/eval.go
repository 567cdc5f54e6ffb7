package engine

import (
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// evaluator is the bounded state of one stateful rule. process is called
// for each event the rule's event.kind index admits (after Evaluated is
// counted); it selects, applies the rule's tuning exclusions, updates the
// counters in c (Matched, Excluded, Alerts, Evictions, Skipped*) and emits
// alerts. size reports the group keys and buffered events held.
type evaluator interface {
	process(ev *schema.Event, c *RuleStats, emit func(schema.Alert))
	size() (keys, pending int)
	snapshot() ruleSnap
	restore(rs ruleSnap) error
}

// admit applies the tuning exclusions to an event that satisfied a rule.
func admit(tune *ruleTune, ev *schema.Event, c *RuleStats) bool {
	if tune.excludes(ev) {
		c.Excluded++
		return false
	}
	c.Matched++
	return true
}

// thresholdEval evaluates threshold and distinct rules.
type thresholdEval struct {
	r       *Rule
	tune    *ruleTune
	st      *ruleState
	maxKeys int
}

func (x *thresholdEval) process(ev *schema.Event, c *RuleStats, emit func(schema.Alert)) {
	if !x.r.matches(ev) || !admit(x.tune, ev, c) {
		return
	}
	if a, fired := x.st.observe(x.r, ev, c, x.maxKeys); fired {
		c.Alerts++
		emit(a)
	}
}

func (x *thresholdEval) size() (int, int) { return x.st.keys.Len(), 0 }
