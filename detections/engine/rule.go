package engine

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/castellan-itdr/castellan/mappings/mitre"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// Rule kinds.
const (
	KindMatch     = "match"
	KindThreshold = "threshold"
	KindDistinct  = "distinct"
	// KindSequence fires when ordered steps occur for one key within a window.
	KindSequence = "sequence"
	// KindNewValue fires on the first sighting of a value for a key after a
	// learning period.
	KindNewValue = "new_value"
	// KindMissingPredecessor fires on an event that lacks an expected earlier
	// event for the same key (a service ticket without a TGT).
	KindMissingPredecessor = "missing_predecessor"
)

// kinds lists every rule kind, for error messages.
var kinds = []string{KindMatch, KindThreshold, KindDistinct, KindSequence, KindNewValue, KindMissingPredecessor, KindTravel}

// Rule statuses.
const (
	StatusExperimental = "experimental"
	StatusTest         = "test"
	StatusStable       = "stable"
)

// Rule is one compiled detection rule. Its exported fields describe it; the
// compiled predicates and parameters are internal. A Rule is immutable after
// ParseRule and may be shared by several engines.
type Rule struct {
	ID          string
	Title       string
	Status      string
	Description string
	Kind        string // match | threshold | distinct | sequence | new_value | missing_predecessor | travel
	Severity    schema.Severity
	Tactic      string // ATT&CK tactic id, e.g. TA0006
	Technique   string // ATT&CK technique id, e.g. T1558.003
	MDI         []int  // Microsoft Defender for Identity alert external ids
	Tags        []string
	GroupBy     []string
	Distinct    string        // field counted distinctly, "" for plain counting
	Threshold   int           // stateful rules: events (or distinct values) to fire
	Window      time.Duration // threshold, distinct, sequence: window length
	Tests       []RuleTest
	File        string // the file the rule was loaded from

	// Steps are the ordered steps of a sequence rule.
	Steps []Step
	// NewValue is the field whose unseen values a new_value rule alerts on.
	NewValue string
	// Learning is how much event time a new_value or missing_predecessor
	// rule observes before it alerts.
	Learning time.Duration
	// Forget is how long a new_value rule remembers a value not seen again.
	Forget time.Duration
	// MaxValues caps the values a new_value rule remembers per key.
	MaxValues int
	// Key and PredecessorKey are a missing_predecessor rule's join fields on
	// the judged event and on the predecessor (same length).
	Key, PredecessorKey []string
	// Within is how far back a missing_predecessor rule looks for the
	// predecessor; Grace is how long it waits for a late one.
	Within, Grace time.Duration
	// MaxSpeed (km/h) and MinDistance (km) are a travel rule's limits.
	MaxSpeed, MinDistance float64
	// Response is the rule's response block (nil: none).
	Response *RuleResponse

	tacticName    string
	techniqueName string
	where         []cond
	not           []cond
	notAny        [][]cond // not given as a list: the event is excluded when any entry holds
	kindValues    []string // lower-case event.kind equality values, when the rule has one
	groupGetters  []schema.Getter
	distinctGet   schema.Getter
	distinctCap   int
	newValueGet   schema.Getter
	predWhere     []cond // missing_predecessor: predecessor where/not
	predNot       []cond
	predGetters   []schema.Getter
	predKinds     []string // predecessor event.kind values (nil: any)
}

// Step is one step of a sequence rule: Count matching events (or Count
// distinct values of Distinct) for the key.
type Step struct {
	Name     string
	Count    int
	Distinct string

	where       []cond
	not         []cond
	kindValues  []string
	distinctGet schema.Getter
	distinctCap int
}

// RuleTest is one sample-based test of a rule: replaying Sample through the
// rule must produce exactly Expect alerts.
type RuleTest struct {
	Sample string
	Expect int
}

// Stateful reports whether the rule keeps state (every kind but match).
func (r *Rule) Stateful() bool { return r.Kind != KindMatch }

// ruleFile is the YAML shape of a rule file.
type ruleFile struct {
	ID          string    `yaml:"id"`
	Title       string    `yaml:"title"`
	Status      string    `yaml:"status"`
	Severity    string    `yaml:"severity"`
	Mitre       mitreRef  `yaml:"mitre"`
	MDI         []int     `yaml:"mdi"`
	Description string    `yaml:"description"`
	Kind        string    `yaml:"kind"`
	Where       yaml.Node `yaml:"where"`
	Not         yaml.Node `yaml:"not"`
	GroupBy     []string  `yaml:"group_by"`
	Distinct    string    `yaml:"distinct"`
	Threshold   int       `yaml:"threshold"`
	Window      string    `yaml:"window"`
	Tests       []testRef `yaml:"tests"`
	Tags        []string  `yaml:"tags"`
	// sequence
	Steps []stepFile `yaml:"steps"`
	// new_value
	NewValue  string `yaml:"new_value"`
	Learning  string `yaml:"learning"`
	Forget    string `yaml:"forget"`
	MaxValues int    `yaml:"max_values"`
	// missing_predecessor
	Predecessor *predFile `yaml:"predecessor"`
	Key         yaml.Node `yaml:"key"`
	Within      string    `yaml:"within"`
	Grace       string    `yaml:"grace"`
	// travel
	MaxSpeed    float64 `yaml:"max_speed"`
	MinDistance float64 `yaml:"min_distance"`
	// response
	Response *responseFile `yaml:"response"`
}

type stepFile struct {
	Name     string    `yaml:"name"`
	Where    yaml.Node `yaml:"where"`
	Not      yaml.Node `yaml:"not"`
	Count    *int      `yaml:"count"`
	Distinct string    `yaml:"distinct"`
}

type predFile struct {
	Where yaml.Node `yaml:"where"`
	Not   yaml.Node `yaml:"not"`
}

type mitreRef struct {
	Tactic    string `yaml:"tactic"`
	Technique string `yaml:"technique"`
}

type testRef struct {
	Sample string `yaml:"sample"`
	Expect *int   `yaml:"expect"`
}

// ParseRule decodes and compiles one rule file. Unknown keys, unknown field
// paths, bad regular expressions, unknown or mismatched ATT&CK ids and
// missing required keys are errors that name the file and, where there is
// one, the line. When file is not empty the rule id must equal its base name
// without extension.
func ParseRule(data []byte, file string) (*Rule, error) {
	name := file
	if name == "" {
		name = "<rule>"
	}
	var rf ruleFile
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&rf); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty rule file", name)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	c := &compiler{file: name, lines: topLines(&root), root: &root}
	r := c.compile(&rf)
	if file != "" && r.ID != "" {
		base := path.Base(strings.ReplaceAll(file, `\`, "/"))
		if stem := strings.TrimSuffix(strings.TrimSuffix(base, ".yml"), ".yaml"); stem != r.ID {
			c.errf("id", "id %q must equal the file name %q", r.ID, stem)
		}
	}
	if len(c.errs) > 0 {
		return nil, errors.Join(c.errs...)
	}
	r.File = file
	return r, nil
}

// topLines maps each top-level key of a rule document to its line.
func topLines(root *yaml.Node) map[string]int {
	out := map[string]int{}
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n.Kind != yaml.MappingNode {
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		out[n.Content[i].Value] = n.Content[i].Line
	}
	return out
}

type compiler struct {
	file  string
	lines map[string]int
	root  *yaml.Node
	errs  []error
}

// errf records an error at the line of a top-level key (or file only).
func (c *compiler) errf(key, format string, args ...any) {
	c.errAt(c.lines[key], format, args...)
}

func (c *compiler) errAt(line int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if line > 0 {
		c.errs = append(c.errs, fmt.Errorf("%s:%d: %s", c.file, line, msg))
	} else {
		c.errs = append(c.errs, fmt.Errorf("%s: %s", c.file, msg))
	}
}

var idRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*[a-z0-9]$`)

func (c *compiler) compile(rf *ruleFile) *Rule {
	r := &Rule{
		ID:          strings.TrimSpace(rf.ID),
		Title:       strings.TrimSpace(rf.Title),
		Status:      rf.Status,
		Description: strings.TrimSpace(rf.Description),
		Kind:        rf.Kind,
		MDI:         rf.MDI,
		Tags:        rf.Tags,
		GroupBy:     rf.GroupBy,
		Distinct:    rf.Distinct,
		Threshold:   rf.Threshold,
	}
	switch {
	case r.ID == "":
		c.errf("id", "id: required")
	case !idRe.MatchString(r.ID):
		c.errf("id", "id %q: want lower-case letters, digits and dashes", r.ID)
	}
	if r.Title == "" {
		c.errf("title", "title: required")
	}
	if r.Description == "" {
		c.errf("description", "description: required")
	}
	switch r.Status {
	case StatusExperimental, StatusTest, StatusStable:
	case "":
		c.errf("status", "status: required (experimental, test or stable)")
	default:
		c.errf("status", "status %q: want experimental, test or stable", r.Status)
	}
	if sev, err := schema.ParseSeverity(rf.Severity); err != nil {
		c.errf("severity", "severity: %v", err)
	} else {
		r.Severity = sev
	}
	c.compileMitre(r, rf.Mitre)
	for _, id := range rf.MDI {
		if id <= 0 {
			c.errf("mdi", "mdi: %d is not an alert id", id)
		}
	}

	r.where = c.compileConds(&rf.Where, "where", rf.Kind != KindSequence)
	if rf.Not.Kind == yaml.SequenceNode {
		// not: [{...}, {...}]: each entry is a condition set of its own
		// (all its fields must hold); an event is excluded when any does.
		for _, item := range rf.Not.Content {
			if conds := c.compileCondsAt(item, "not", true, item.Line); len(conds) > 0 {
				r.notAny = append(r.notAny, conds)
			}
		}
	} else {
		r.not = c.compileConds(&rf.Not, "not", false)
	}
	for _, cd := range r.where {
		if cd.path == "event.kind" && cd.op == opEq {
			r.kindValues = cd.vals
		}
	}
	c.compileKind(r, rf)
	r.Response = c.compileResponse(rf.Response)

	for i, t := range rf.Tests {
		switch {
		case strings.TrimSpace(t.Sample) == "":
			c.errf("tests", "tests[%d].sample: required", i)
		case t.Expect == nil:
			c.errf("tests", "tests[%d].expect: required", i)
		case *t.Expect < 0:
			c.errf("tests", "tests[%d].expect: must be >= 0", i)
		default:
			r.Tests = append(r.Tests, RuleTest{Sample: t.Sample, Expect: *t.Expect})
		}
	}
	return r
}

func (c *compiler) compileMitre(r *Rule, m mitreRef) {
	r.Tactic, r.Technique = strings.TrimSpace(m.Tactic), strings.TrimSpace(m.Technique)
	if r.Tactic == "" || r.Technique == "" {
		c.errf("mitre", "mitre: tactic and technique are required")
		return
	}
	ta, okTa := mitre.LookupTactic(r.Tactic)
	if !okTa {
		c.errf("mitre", "mitre.tactic: unknown ATT&CK tactic %q", r.Tactic)
	}
	te, okTe := mitre.LookupTechnique(r.Technique)
	if !okTe {
		c.errf("mitre", "mitre.technique: unknown ATT&CK technique %q", r.Technique)
	}
	if okTa && okTe && !te.HasTactic(ta.ID) {
		c.errf("mitre", "mitre: technique %s (%s) does not belong to tactic %s (%s); its tactics are %s",
			te.ID, te.Name, ta.ID, ta.Name, strings.Join(te.Tactics, ", "))
	}
	r.Tactic, r.Technique = ta.ID, te.ID
	if !okTa {
		r.Tactic = m.Tactic
	}
	if !okTe {
		r.Technique = m.Technique
	}
	r.tacticName, r.techniqueName = ta.Name, te.FullName()
}

// kindKeys are the top-level keys that belong to some kinds only, with the
// kinds that accept them.
var kindKeys = []struct {
	key   string
	kinds []string
}{
	{"group_by", []string{KindThreshold, KindDistinct, KindSequence, KindNewValue, KindTravel}},
	{"distinct", []string{KindThreshold, KindDistinct}},
	{"threshold", []string{KindThreshold, KindDistinct}},
	{"window", []string{KindThreshold, KindDistinct, KindSequence, KindTravel}},
	{"max_speed", []string{KindTravel}},
	{"min_distance", []string{KindTravel}},
	{"steps", []string{KindSequence}},
	{"new_value", []string{KindNewValue}},
	{"learning", []string{KindNewValue, KindMissingPredecessor}},
	{"forget", []string{KindNewValue}},
	{"max_values", []string{KindNewValue}},
	{"predecessor", []string{KindMissingPredecessor}},
	{"key", []string{KindMissingPredecessor}},
	{"within", []string{KindMissingPredecessor}},
	{"grace", []string{KindMissingPredecessor}},
}

func (c *compiler) compileKind(r *Rule, rf *ruleFile) {
	if slices.Contains(kinds, r.Kind) {
		for _, kk := range kindKeys {
			if _, ok := c.lines[kk.key]; ok && !slices.Contains(kk.kinds, r.Kind) {
				c.errf(kk.key, "%s: not allowed for kind %s", kk.key, r.Kind)
			}
		}
	}
	stateful := func() {
		if r.Threshold < 1 {
			c.errf("threshold", "threshold: must be >= 1 for kind %s", r.Kind)
		}
		r.Window = c.duration(rf.Window, "window", true)
		r.groupGetters = c.fields(r.GroupBy, "group_by")
		if r.Distinct != "" {
			g, ok := schema.Field(r.Distinct)
			if !ok {
				c.errf("distinct", "distinct: unknown field %q", r.Distinct)
			}
			r.distinctGet = g
			r.distinctCap = distinctCap(r.Threshold)
		}
	}
	switch r.Kind {
	case KindMatch:
	case KindThreshold:
		stateful()
	case KindDistinct:
		if r.Distinct == "" {
			c.errf("kind", "distinct: required for kind distinct")
		}
		stateful()
	case KindSequence:
		c.compileSequence(r, rf)
	case KindNewValue:
		c.compileNewValue(r, rf)
	case KindMissingPredecessor:
		c.compileMissingPredecessor(r, rf)
	case KindTravel:
		c.compileTravel(r, rf)
	case "":
		c.errf("kind", "kind: required (%s)", strings.Join(kinds, ", "))
	default:
		c.errf("kind", "kind %q: want one of %s", r.Kind, strings.Join(kinds, ", "))
	}
}

// distinctCap bounds the distinct values held per key for a threshold.
func distinctCap(threshold int) int { return max(threshold*4, 64) }

// LoadDir parses every *.yml and *.yaml file under root in fsys and returns
// the rules sorted by id. All errors are returned together; two rules with
// the same id are an error.
func LoadDir(fsys fs.FS, root string) ([]*Rule, error) {
	var (
		rules []*Rule
		errs  []error
		seen  = map[string]string{}
	)
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if ext := path.Ext(p); ext != ".yml" && ext != ".yaml" {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		r, err := ParseRule(data, p)
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		if prev, dup := seen[r.ID]; dup {
			errs = append(errs, fmt.Errorf("%s: duplicate rule id %q (also in %s)", p, r.ID, prev))
			return nil
		}
		seen[r.ID] = p
		rules = append(rules, r)
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	sort.Slice(rules, func(i, j int) bool { return rules[i].ID < rules[j].ID })
	return rules, errors.Join(errs...)
}

// Check is the rule-library meta-check: the id equals the file name, the
// ATT&CK technique is known and belongs to the tactic, and the rule has at
// least one positive (expect > 0) and one negative (expect 0) sample test.
// It does not run the tests; see RunTests.
func Check(r *Rule) error {
	var errs []error
	if r.File != "" {
		base := path.Base(strings.ReplaceAll(r.File, `\`, "/"))
		if stem := strings.TrimSuffix(strings.TrimSuffix(base, ".yml"), ".yaml"); stem != r.ID {
			errs = append(errs, fmt.Errorf("id %q does not equal file name %q", r.ID, stem))
		}
	}
	te, ok := mitre.LookupTechnique(r.Technique)
	switch {
	case !ok:
		errs = append(errs, fmt.Errorf("unknown ATT&CK technique %q", r.Technique))
	case !te.HasTactic(r.Tactic):
		errs = append(errs, fmt.Errorf("technique %s does not belong to tactic %s", r.Technique, r.Tactic))
	}
	if !slices.ContainsFunc(r.Tests, func(t RuleTest) bool { return t.Expect > 0 }) {
		errs = append(errs, errors.New("no positive sample test (expect > 0)"))
	}
	if !slices.ContainsFunc(r.Tests, func(t RuleTest) bool { return t.Expect == 0 }) {
		errs = append(errs, errors.New("no negative sample test (expect: 0)"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("rule %s (%s): %w", r.ID, r.File, errors.Join(errs...))
	}
	return nil
}
