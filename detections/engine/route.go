package engine

import (
	"slices"
	"unicode/utf8"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// Rules without an event.kind constraint are still routed when they pin
// event.code or event.action: most of them name one or two Windows event
// ids or normalized actions, and evaluating every one of them on every
// event was most of detection's cost. A route only skips rules that could
// not have matched, so alerts, their order and rule state are the same as
// evaluating every rule.

// routeFields are the fields rules are routed on besides event.kind, in
// order of preference.
var routeFields = [...]string{"event.code", "event.action"}

// route is the candidate lists of one routed field: rule indexes by
// lower-case value, ascending, plus all rules routed on the field (for
// values a map lookup cannot settle).
type route struct {
	get   schema.Getter
	by    map[string][]int
	all   []int
	field string
}

// lookup returns the rules that may match an event whose field value is v.
// Needles are lower-case ASCII (see routeValues), so an ASCII value matches
// exactly when its lower-case form does; any other value gets every rule of
// the route.
func (rt *route) lookup(v string) []int {
	if l, ok := rt.by[v]; ok {
		return l
	}
	var buf [64]byte
	if len(v) > len(buf) {
		return rt.all
	}
	upper := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= utf8.RuneSelf:
			return rt.all
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
			upper = true
		}
		buf[i] = c
	}
	if !upper {
		return nil
	}
	return rt.by[string(buf[:len(v)])]
}

// eqValues returns the lower-case equality values of the first condition on
// path, nil when cs does not constrain it.
func eqValues(cs []cond, path string) []string {
	for _, cd := range cs {
		if cd.path == path && cd.op == opEq {
			return cd.vals
		}
	}
	return nil
}

// routeValues returns the values of path an event must carry for the rule
// to do anything with it, nil when the rule is not constrained on path (or
// a needle is not ASCII, which case folding could match by another
// spelling). Only kinds whose evaluation provably ignores non-matching
// events are routed.
func routeValues(r *Rule, path string) []string {
	var vals []string
	switch r.Kind {
	case KindMatch, KindThreshold, KindDistinct, KindNewValue, KindTravel:
		// Evaluation starts with r.matches(ev).
		vals = eqValues(r.where, path)
	case KindSequence:
		// Non-matching where, or no matching step: nothing happens.
		if vals = eqValues(r.where, path); vals == nil {
			sets := make([][]string, len(r.Steps))
			for i := range r.Steps {
				sets[i] = eqValues(r.Steps[i].where, path)
			}
			vals = unionKinds(sets...)
		}
	case KindMissingPredecessor:
		// Neither predecessor nor judged event: nothing happens.
		w, p := eqValues(r.where, path), eqValues(r.predWhere, path)
		if w != nil && p != nil {
			vals = unionKinds(w, p)
		}
	}
	for _, v := range vals {
		for i := 0; i < len(v); i++ {
			if v[i] >= utf8.RuneSelf {
				return nil
			}
		}
	}
	return vals
}

// buildRoutes assigns each rule without an event.kind constraint (listed in
// unkinded, ascending) to the first route field it pins, and returns the
// routes and the rules left unrouted.
func buildRoutes(rules []*Rule, unkinded []int) (routes []route, free []int) {
	left := unkinded
	for _, f := range routeFields {
		get, _ := schema.Field(f)
		rt := route{get: get, by: map[string][]int{}, field: f}
		var rest []int
		for _, i := range left {
			vals := routeValues(rules[i], f)
			if vals == nil {
				rest = append(rest, i)
				continue
			}
			rt.all = append(rt.all, i)
			for _, v := range vals {
				if !slices.Contains(rt.by[v], i) {
					rt.by[v] = append(rt.by[v], i)
				}
			}
		}
		if len(rt.all) > 0 {
			routes = append(routes, rt)
		}
		left = rest
	}
	return routes, left
}
