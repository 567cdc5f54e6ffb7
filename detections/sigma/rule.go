package sigma

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/castellan-itdr/castellan/mappings/mitre"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// Alert kinds (schema.RuleRef.Kind) of Sigma rules.
const (
	KindDetection   = "sigma"
	KindCorrelation = "sigma_correlation"
)

// Correlation types.
const (
	CorrEventCount      = "event_count"
	CorrValueCount      = "value_count"
	CorrTemporal        = "temporal"
	CorrTemporalOrdered = "temporal_ordered"
)

// Rule is one loaded Sigma rule: a detection rule or a correlation rule.
// Exported fields describe it; the compiled matchers are internal. A Rule
// is immutable after ParseFile and may be shared by several Sets.
type Rule struct {
	ID          string
	Name        string // Sigma 2 name, used by correlation rules to reference it
	Title       string
	Level       string // informational | low | medium | high | critical
	Status      string
	Description string
	Author      string
	File        string
	Date        string
	Modified    string
	References  []string
	// Falsepositives are the rule's documented false positive sources.
	Falsepositives []string
	Tags           []string
	Logsource      Logsource
	// Technique and Tactic are the first ATT&CK technique and tactic ids
	// from the tags ("" if none); a technique without a tactic tag gets the
	// technique's first tactic.
	Technique string
	Tactic    string
	Severity  schema.Severity
	// Correlation is set for correlation rules (nil for detection rules).
	Correlation *Correlation

	techniqueName string
	tacticName    string
	units         []unit
}

// Logsource is the rule's logsource block.
type Logsource struct {
	Product  string
	Service  string
	Category string
}

// Correlation describes a Sigma correlation rule.
type Correlation struct {
	Type     string   // event_count | value_count | temporal | temporal_ordered
	Rules    []string // referenced rule ids or names
	GroupBy  []string
	Timespan time.Duration
	// Field is the field counted distinctly by value_count.
	Field string
	// Op and Count are the condition: gte or gt with a count (temporal
	// rules use gte and the number of referenced rules).
	Op    string
	Count int
	// Generate makes the referenced rules emit their own alerts as well.
	Generate bool
}

// unit is a rule compiled for one logsource target.
type unit struct {
	target   string
	channels []string
	eventIDs []string // index keys; empty = any event id
	tree     node
}

// IsCorrelation reports whether r is a correlation rule.
func (r *Rule) IsCorrelation() bool { return r.Correlation != nil }

// Kind is the alert kind of r: sigma or sigma_correlation.
func (r *Rule) Kind() string {
	if r.Correlation != nil {
		return KindCorrelation
	}
	return KindDetection
}

// RuleError is a rule that failed to load: a syntax error or an
// unsupported construct.
type RuleError struct {
	File   string
	RuleID string
	Title  string
	Err    error
}

func (e *RuleError) Error() string {
	id := e.RuleID
	if id == "" {
		id = "(no id)"
	}
	return fmt.Sprintf("sigma: %s: rule %s: %v", e.File, id, e.Err)
}

func (e *RuleError) Unwrap() error { return e.Err }

// Unsupported reports whether the rule failed on a construct Castellan
// does not implement (rather than on an error in the rule).
func (e *RuleError) Unsupported() bool {
	var u *unsupportedError
	return errors.As(e.Err, &u)
}

// Problem is one rule Load did not return, with the reason.
type Problem struct {
	File   string `json:"file"`
	RuleID string `json:"rule_id,omitempty"`
	Reason string `json:"reason"`
}

// maxFileSize bounds one rule file.
const maxFileSize = 4 << 20

// ParseFile parses every Sigma document of one file (Sigma 1 action:
// global / reset / repeat documents are merged as the specification says).
// It returns the rules that compiled and, joined, a *RuleError for each
// document that did not; a document error never hides the others.
func ParseFile(data []byte, file string) ([]*Rule, error) {
	if len(data) > maxFileSize {
		return nil, &RuleError{File: file, Err: fmt.Errorf("file larger than %d bytes", maxFileSize)}
	}
	docs, err := documents(data)
	if err != nil {
		return nil, &RuleError{File: file, Err: fmt.Errorf("yaml: %w", err)}
	}
	var (
		rules  []*Rule
		errs   []error
		global *mapping
		prev   *mapping
	)
	for _, d := range docs {
		switch strings.ToLower(str(d, "action")) {
		case "global":
			global = d
			continue
		case "reset":
			global = nil
			continue
		case "repeat":
			if prev == nil {
				errs = append(errs, &RuleError{File: file, RuleID: str(d, "id"), Err: errors.New("action: repeat without a previous rule")})
				continue
			}
			d = merge(prev, d)
		default:
			if global != nil {
				d = merge(global, d)
			}
		}
		prev = d
		r, err := parseRule(d, file)
		if err != nil {
			errs = append(errs, &RuleError{File: file, RuleID: str(d, "id"), Title: str(d, "title"), Err: err})
			continue
		}
		rules = append(rules, r)
	}
	return rules, errors.Join(errs...)
}

var (
	reTechnique = regexp.MustCompile(`^attack\.(t\d{4}(?:\.\d{3})?)$`)
)

func parseRule(d *mapping, file string) (*Rule, error) {
	r := &Rule{
		ID:          str(d, "id"),
		Name:        str(d, "name"),
		Title:       str(d, "title"),
		Level:       strings.ToLower(str(d, "level")),
		Status:      str(d, "status"),
		Description: strings.TrimSpace(str(d, "description")),
		Author:      str(d, "author"),
		File:        file,
		Date:        str(d, "date"),
		Modified:    str(d, "modified"),
	}
	if v, ok := d.get("references"); ok {
		r.References = strList(v)
	}
	if v, ok := d.get("falsepositives"); ok {
		r.Falsepositives = strList(v)
	}
	if v, ok := d.get("tags"); ok {
		r.Tags = strList(v)
	}
	if r.ID == "" {
		if r.Name == "" {
			return nil, errors.New("id: required")
		}
		r.ID = r.Name
	}
	if r.Title == "" {
		return nil, errors.New("title: required")
	}
	if r.Level == "" {
		r.Level = "medium"
	}
	sev, err := schema.ParseSeverity(r.Level)
	if err != nil {
		return nil, fmt.Errorf("level: %w", err)
	}
	r.Severity = sev
	r.mapTags()

	if c, ok := d.get("correlation"); ok {
		cm, ok := c.(*mapping)
		if !ok {
			return nil, errors.New("correlation: want a map")
		}
		if err := r.parseCorrelation(cm); err != nil {
			return nil, fmt.Errorf("correlation: %w", err)
		}
		return r, nil
	}
	if lsv, ok := d.get("logsource"); ok {
		ls, ok := lsv.(*mapping)
		if !ok {
			return nil, errors.New("logsource: want a map")
		}
		r.Logsource = Logsource{Product: str(ls, "product"), Service: str(ls, "service"), Category: str(ls, "category")}
	}
	dv, ok := d.get("detection")
	det, isMap := dv.(*mapping)
	if !ok || !isMap {
		return nil, errors.New("detection: required map")
	}
	if _, ok := det.get("timeframe"); ok {
		return nil, unsupported("timeframe", "Sigma 1 aggregation timeframe (use a correlation rule)")
	}
	cv, ok := det.get("condition")
	if !ok {
		return nil, errors.New("detection.condition: required")
	}
	conds := strList(cv)
	if len(conds) == 0 {
		return nil, errors.New("detection.condition: want a string or a list of strings")
	}
	tgts, err := targets(r.Logsource)
	if err != nil {
		return nil, err
	}
	for _, t := range tgts {
		c := &compiler{det: det, fields: t.fields, memo: map[string]node{}}
		var tree orNode
		for _, cs := range conds {
			n, err := c.compileCondition(cs)
			if err != nil {
				return nil, err
			}
			tree = append(tree, n)
		}
		u := unit{target: t.name, channels: t.channels, eventIDs: t.eventIDs}
		if len(tree) == 1 {
			u.tree = tree[0]
		} else {
			u.tree = tree
		}
		if len(u.eventIDs) == 0 {
			if ids, ok := eventIDSet(u.tree); ok {
				u.eventIDs = ids
			}
		}
		r.units = append(r.units, u)
	}
	return r, nil
}

// mapTags sets Technique and Tactic from attack.* tags.
func (r *Rule) mapTags() {
	for _, tag := range r.Tags {
		t := strings.ToLower(strings.TrimSpace(tag))
		if m := reTechnique.FindStringSubmatch(t); m != nil {
			if r.Technique == "" {
				r.Technique = strings.ToUpper(m[1])
			}
			continue
		}
		if short, ok := strings.CutPrefix(t, "attack."); ok && r.Tactic == "" {
			if ta, ok := mitre.LookupTacticByShortname(strings.ReplaceAll(short, "_", "-")); ok {
				r.Tactic = ta.ID
			}
		}
	}
	if r.Technique != "" {
		if te, ok := mitre.LookupTechnique(r.Technique); ok {
			r.techniqueName = te.FullName()
			if r.Tactic == "" && len(te.Tactics) > 0 {
				r.Tactic = te.Tactics[0]
			}
		}
	}
	if r.Tactic != "" {
		if ta, ok := mitre.LookupTactic(r.Tactic); ok {
			r.tacticName = ta.Name
		}
	}
}

var reTimespan = regexp.MustCompile(`^(\d+)([smhdMy])$`)

func parseTimespan(s string) (time.Duration, error) {
	m := reTimespan.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("timespan %q: want a number and s, m, h or d", s)
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("timespan %q: want a positive number", s)
	}
	unit := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}[m[2]]
	if unit == 0 {
		return 0, unsupported("timespan", "%q: months and years are not supported", s)
	}
	return time.Duration(n) * unit, nil
}

func (r *Rule) parseCorrelation(m *mapping) error {
	c := &Correlation{Type: strings.ToLower(str(m, "type"))}
	switch c.Type {
	case CorrEventCount, CorrValueCount, CorrTemporal, CorrTemporalOrdered:
	case "":
		return errors.New("type: required")
	default:
		return unsupported("correlation type", "%q", c.Type)
	}
	if _, ok := m.get("aliases"); ok {
		return unsupported("correlation aliases", "field aliases across referenced rules")
	}
	v, _ := m.get("rules")
	c.Rules = strList(v)
	if len(c.Rules) == 0 {
		return errors.New("rules: required")
	}
	v, _ = m.get("group-by")
	c.GroupBy = strList(v)
	ts := str(m, "timespan")
	if ts == "" {
		ts = str(m, "timeframe")
	}
	if ts == "" {
		return errors.New("timespan: required")
	}
	d, err := parseTimespan(ts)
	if err != nil {
		return err
	}
	c.Timespan = d
	if g := str(m, "generate"); g != "" {
		b, err := strconv.ParseBool(strings.ToLower(g))
		if err != nil {
			return fmt.Errorf("generate: %q is not a boolean", g)
		}
		c.Generate = b
	}
	c.Field = str(m, "field")
	cv, hasCond := m.get("condition")
	switch c.Type {
	case CorrTemporal, CorrTemporalOrdered:
		if len(c.Rules) < 2 {
			return errors.New("rules: a temporal correlation needs at least two rules")
		}
		c.Op, c.Count = "gte", len(c.Rules)
		if hasCond {
			if err := c.parseCondition(cv); err != nil {
				return err
			}
			if c.Count != len(c.Rules) || c.Op != "gte" {
				return unsupported("temporal condition", "only all referenced rules (gte %d) is supported", len(c.Rules))
			}
		}
	default:
		if !hasCond {
			return errors.New("condition: required")
		}
		if err := c.parseCondition(cv); err != nil {
			return err
		}
		if c.Type == CorrValueCount && c.Field == "" {
			return errors.New("condition.field: required for value_count")
		}
	}
	r.Correlation = c
	return nil
}

func (c *Correlation) parseCondition(v any) error {
	cm, ok := v.(*mapping)
	if !ok {
		return errors.New("condition: want a map such as {gte: 10}")
	}
	for i, k := range cm.keys {
		val, _ := cm.vals[i].(scalar)
		switch k {
		case "field":
			c.Field = strings.TrimSpace(val.text)
		case "gte", "gt":
			if c.Op != "" && c.Count != 0 && !(c.Op == "gte" && k == "gte") {
				return unsupported("correlation condition", "more than one comparison")
			}
			n, err := strconv.Atoi(strings.TrimSpace(val.text))
			if err != nil || n < 0 || n > 1_000_000 {
				return fmt.Errorf("condition.%s: %q is not a count", k, val.text)
			}
			c.Op, c.Count = k, n
		case "lt", "lte", "eq", "neq":
			return unsupported("correlation condition "+k, "firing on a count below or equal to a bound needs the window to close; only gte and gt are supported")
		default:
			return fmt.Errorf("condition: unknown key %q", k)
		}
	}
	if c.Op == "" {
		return errors.New("condition: want gte or gt")
	}
	return nil
}

// threshold is the count at which a count correlation fires.
func (c *Correlation) threshold() int {
	if c.Op == "gt" {
		return c.Count + 1
	}
	return max(c.Count, 1)
}

// Load loads every .yml / .yaml file under root. Rules that fail to parse
// or use an unsupported construct are not returned but listed in problems
// with the reason; one bad file never stops the others. Correlation rules
// whose referenced rules are missing are problems too. err is only set
// when root cannot be walked.
func Load(fsys fs.FS, root string) (rules []*Rule, problems []Problem, err error) {
	var files []string
	err = fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root {
				return err
			}
			problems = append(problems, Problem{File: p, Reason: err.Error()})
			return nil
		}
		if d.IsDir() {
			return nil
		}
		switch strings.ToLower(path.Ext(p)) {
		case ".yml", ".yaml":
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("sigma: load %s: %w", root, err)
	}
	sort.Strings(files)
	seen := map[string]string{}
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			problems = append(problems, Problem{File: f, Reason: err.Error()})
			continue
		}
		rs, perr := ParseFile(data, f)
		for _, r := range rs {
			if other, dup := seen[r.ID]; dup {
				problems = append(problems, Problem{File: f, RuleID: r.ID, Reason: "duplicate rule id (also in " + other + ")"})
				continue
			}
			seen[r.ID] = f
			rules = append(rules, r)
		}
		problems = append(problems, problemsOf(perr, f)...)
	}
	rules, bad := checkReferences(rules)
	problems = append(problems, bad...)
	return rules, problems, nil
}

// problemsOf flattens ParseFile's joined errors.
func problemsOf(err error, file string) []Problem {
	if err == nil {
		return nil
	}
	var out []Problem
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		var re *RuleError
		if errors.As(e, &re) {
			out = append(out, Problem{File: re.File, RuleID: re.RuleID, Reason: re.Err.Error()})
			return
		}
		out = append(out, Problem{File: file, Reason: e.Error()})
	}
	walk(err)
	return out
}

// checkReferences drops correlation rules whose references do not resolve
// to loaded detection rules.
func checkReferences(rules []*Rule) ([]*Rule, []Problem) {
	byRef := refIndex(rules)
	var out []*Rule
	var problems []Problem
	for _, r := range rules {
		if r.Correlation == nil {
			out = append(out, r)
			continue
		}
		if err := resolveRefs(r, byRef); err != nil {
			problems = append(problems, Problem{File: r.File, RuleID: r.ID, Reason: err.Error()})
			continue
		}
		out = append(out, r)
	}
	return out, problems
}

func refIndex(rules []*Rule) map[string]*Rule {
	m := make(map[string]*Rule, 2*len(rules))
	for _, r := range rules {
		m[r.ID] = r
	}
	for _, r := range rules {
		if r.Name != "" {
			if _, taken := m[r.Name]; !taken {
				m[r.Name] = r
			}
		}
	}
	return m
}

func resolveRefs(r *Rule, byRef map[string]*Rule) error {
	for _, ref := range r.Correlation.Rules {
		b, ok := byRef[ref]
		if !ok {
			return fmt.Errorf("correlation references unknown rule %q", ref)
		}
		if b.Correlation != nil {
			return unsupported("correlation chaining", "rule %q referenced by a correlation is itself a correlation", ref)
		}
	}
	return nil
}
