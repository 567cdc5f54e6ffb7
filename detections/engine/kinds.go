package engine

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// Limits of the kinds' parameters.
const (
	maxSteps             = 16
	defaultMaxValues     = 64
	maxMaxValues         = 10_000
	maxStepCount         = 10_000
	maxThresholdOverride = 10_000
)

var dayRe = regexp.MustCompile(`^(\d+)d(.*)$`)

// parseDuration is time.ParseDuration that also accepts a leading number of
// days: "7d", "1d12h", "30d".
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if m := dayRe.FindStringSubmatch(s); m != nil {
		days, err := strconv.Atoi(m[1])
		if err != nil || days > 100_000 {
			return 0, fmt.Errorf("bad number of days %q", m[1])
		}
		d := time.Duration(days) * 24 * time.Hour
		if m[2] == "" {
			return d, nil
		}
		rest, err := time.ParseDuration(m[2])
		if err != nil {
			return 0, err
		}
		return d + rest, nil
	}
	return time.ParseDuration(s)
}

// duration compiles a duration key. An absent optional key gives 0.
func (c *compiler) duration(s, key string, required bool) time.Duration {
	if s == "" {
		if required {
			c.errf(key, "%s: required for this kind", key)
		}
		return 0
	}
	d, err := parseDuration(s)
	if err != nil || d <= 0 {
		c.errf(key, "%s %q: want a positive duration such as 10m, 10h or 7d", key, s)
		return 0
	}
	return d
}

// fields resolves field paths under a top-level key.
func (c *compiler) fields(paths []string, key string) []schema.Getter {
	var out []schema.Getter
	for _, p := range paths {
		g, ok := schema.Field(p)
		if !ok {
			c.errf(key, "%s: unknown field %q", key, p)
			continue
		}
		out = append(out, g)
	}
	return out
}

// kindEq returns the lower-case event.kind equality values of conditions,
// nil when they do not constrain the kind.
func kindEq(cs []cond) []string {
	for _, cd := range cs {
		if cd.path == "event.kind" && cd.op == opEq {
			return cd.vals
		}
	}
	return nil
}

// unionKinds merges event.kind constraints of alternatives; nil (any kind)
// wins.
func unionKinds(sets ...[]string) []string {
	var out []string
	for _, s := range sets {
		if s == nil {
			return nil
		}
		for _, k := range s {
			if !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	return out
}

// itemLines returns the line of each item of a top-level sequence key.
func (c *compiler) itemLines(key string) []int {
	n := c.root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key && n.Content[i+1].Kind == yaml.SequenceNode {
			var out []int
			for _, it := range n.Content[i+1].Content {
				out = append(out, it.Line)
			}
			return out
		}
	}
	return nil
}

func (c *compiler) compileSequence(r *Rule, rf *ruleFile) {
	r.Window = c.duration(rf.Window, "window", true)
	r.groupGetters = c.fields(r.GroupBy, "group_by")
	if len(rf.Steps) < 2 {
		c.errf("steps", "steps: a sequence needs at least 2 steps")
	}
	if len(rf.Steps) > maxSteps {
		c.errf("steps", "steps: at most %d steps", maxSteps)
	}
	lines := c.itemLines("steps")
	names := map[string]bool{}
	var stepKinds [][]string
	for i, sf := range rf.Steps {
		line := c.lines["steps"]
		if i < len(lines) {
			line = lines[i]
		}
		label := fmt.Sprintf("steps[%d]", i)
		st := Step{Name: strings.TrimSpace(sf.Name), Count: 1, Distinct: sf.Distinct}
		if st.Name == "" {
			st.Name = fmt.Sprintf("step%d", i+1)
		}
		if names[st.Name] {
			c.errAt(line, "%s.name: duplicate step name %q", label, st.Name)
		}
		names[st.Name] = true
		if sf.Count != nil {
			st.Count = *sf.Count
			if st.Count < 1 || st.Count > maxStepCount {
				c.errAt(line, "%s.count: must be between 1 and %d", label, maxStepCount)
			}
		}
		st.where = c.compileCondsAt(&sf.Where, label+".where", true, line)
		st.not = c.compileCondsAt(&sf.Not, label+".not", false, line)
		if st.Distinct != "" {
			g, ok := schema.Field(st.Distinct)
			if !ok {
				c.errAt(line, "%s.distinct: unknown field %q", label, st.Distinct)
			}
			st.distinctGet = g
			st.distinctCap = distinctCap(st.Count)
		}
		st.kindValues = kindEq(st.where)
		stepKinds = append(stepKinds, st.kindValues)
		r.Steps = append(r.Steps, st)
	}
	if r.kindValues == nil && len(stepKinds) > 0 {
		r.kindValues = unionKinds(stepKinds...)
	}
}

func (c *compiler) compileNewValue(r *Rule, rf *ruleFile) {
	r.groupGetters = c.fields(r.GroupBy, "group_by")
	r.NewValue = strings.TrimSpace(rf.NewValue)
	if r.NewValue == "" {
		c.errf("new_value", "new_value: required for kind new_value (the field whose new values alert)")
	} else if g, ok := schema.Field(r.NewValue); !ok {
		c.errf("new_value", "new_value: unknown field %q", r.NewValue)
	} else {
		r.newValueGet = g
	}
	if _, ok := c.lines["learning"]; !ok {
		c.errf("kind", "learning: required for kind new_value (e.g. 7d)")
	} else {
		r.Learning = c.duration(rf.Learning, "learning", true)
	}
	r.Forget = c.duration(rf.Forget, "forget", true)
	r.MaxValues = defaultMaxValues
	if _, ok := c.lines["max_values"]; ok {
		r.MaxValues = rf.MaxValues
		if r.MaxValues < 1 || r.MaxValues > maxMaxValues {
			c.errf("max_values", "max_values: must be between 1 and %d", maxMaxValues)
		}
	}
	if r.Forget > 0 && r.Learning > r.Forget {
		c.errf("learning", "learning (%s) must not exceed forget (%s)", r.Learning, r.Forget)
	}
}

func (c *compiler) compileMissingPredecessor(r *Rule, rf *ruleFile) {
	line := c.lines["predecessor"]
	if rf.Predecessor == nil {
		c.errf("kind", "predecessor: required for kind missing_predecessor")
	} else {
		r.predWhere = c.compileCondsAt(&rf.Predecessor.Where, "predecessor.where", true, line)
		r.predNot = c.compileCondsAt(&rf.Predecessor.Not, "predecessor.not", false, line)
		r.predKinds = kindEq(r.predWhere)
	}
	c.compileJoinKey(r, &rf.Key)
	r.Within = c.duration(rf.Within, "within", true)
	r.Grace = c.duration(rf.Grace, "grace", false)
	r.Learning = r.Within
	if rf.Learning != "" {
		r.Learning = c.duration(rf.Learning, "learning", false)
	}
	if r.kindValues != nil {
		r.kindValues = unionKinds(r.kindValues, r.predKinds)
	}
}

// compileJoinKey reads key: [fields] or key: {event: [..], predecessor: [..]}.
func (c *compiler) compileJoinKey(r *Rule, n *yaml.Node) {
	strs := func(n *yaml.Node, label string) []string {
		if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
			c.errAt(n.Line, "%s: want a non-empty list of fields", label)
			return nil
		}
		var out []string
		for _, it := range n.Content {
			if it.Kind != yaml.ScalarNode {
				c.errAt(it.Line, "%s: list items must be field names", label)
				continue
			}
			out = append(out, it.Value)
		}
		return out
	}
	switch n.Kind {
	case 0:
		c.errf("kind", "key: required for kind missing_predecessor (join fields)")
		return
	case yaml.SequenceNode:
		r.Key = strs(n, "key")
		r.PredecessorKey = r.Key
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			switch k.Value {
			case "event":
				r.Key = strs(v, "key.event")
			case "predecessor":
				r.PredecessorKey = strs(v, "key.predecessor")
			default:
				c.errAt(k.Line, "key: unknown key %q (want event and predecessor)", k.Value)
			}
		}
		if len(r.Key) == 0 || len(r.PredecessorKey) == 0 {
			c.errAt(n.Line, "key: both event and predecessor field lists are required")
		} else if len(r.Key) != len(r.PredecessorKey) {
			c.errAt(n.Line, "key: event has %d fields, predecessor %d; want the same number", len(r.Key), len(r.PredecessorKey))
		}
	default:
		c.errAt(n.Line, "key: want a list of fields or {event: [...], predecessor: [...]}")
		return
	}
	r.GroupBy = r.Key
	r.groupGetters = c.fields(r.Key, "key")
	r.predGetters = c.fields(r.PredecessorKey, "key")
}
