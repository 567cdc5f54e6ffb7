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
)

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
	Kind        string // match | threshold | distinct
	Severity    schema.Severity
	Tactic      string // ATT&CK tactic id, e.g. TA0006
	Technique   string // ATT&CK technique id, e.g. T1558.003
	MDI         []int  // Microsoft Defender for Identity alert external ids
	Tags        []string
	GroupBy     []string
	Distinct    string        // field counted distinctly, "" for plain counting
	Threshold   int           // stateful rules: events (or distinct values) to fire
	Window      time.Duration // stateful rules: sliding window length
	Tests       []RuleTest
	File        string // the file the rule was loaded from

	tacticName    string
	techniqueName string
	where         []cond
	not           []cond
	kindValues    []string // lower-case event.kind equality values, when the rule has one
	groupGetters  []schema.Getter
	distinctGet   schema.Getter
	distinctCap   int
}

// RuleTest is one sample-based test of a rule: replaying Sample through the
// rule must produce exactly Expect alerts.
type RuleTest struct {
	Sample string
	Expect int
}

// Stateful reports whether the rule keeps state (threshold or distinct).
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
	c := &compiler{file: name, lines: topLines(&root)}
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

	r.where = c.compileConds(&rf.Where, "where", true)
	r.not = c.compileConds(&rf.Not, "not", false)
	for _, cd := range r.where {
		if cd.path == "event.kind" && cd.op == opEq {
			r.kindValues = cd.vals
		}
	}
	c.compileKind(r, rf)

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

func (c *compiler) compileKind(r *Rule, rf *ruleFile) {
	stateful := func() {
		if r.Threshold < 1 {
			c.errf("threshold", "threshold: must be >= 1 for kind %s", r.Kind)
		}
		if rf.Window == "" {
			c.errf("window", "window: required for kind %s", r.Kind)
		} else if d, err := time.ParseDuration(rf.Window); err != nil || d <= 0 {
			c.errf("window", "window %q: want a positive duration such as 10m", rf.Window)
		} else {
			r.Window = d
		}
		for _, p := range r.GroupBy {
			g, ok := schema.Field(p)
			if !ok {
				c.errf("group_by", "group_by: unknown field %q", p)
				continue
			}
			r.groupGetters = append(r.groupGetters, g)
		}
		if r.Distinct != "" {
			g, ok := schema.Field(r.Distinct)
			if !ok {
				c.errf("distinct", "distinct: unknown field %q", r.Distinct)
			}
			r.distinctGet = g
			r.distinctCap = max(r.Threshold*4, 64)
		}
	}
	switch r.Kind {
	case KindMatch:
		for _, k := range []string{"group_by", "distinct", "threshold", "window"} {
			if _, ok := c.lines[k]; ok {
				c.errf(k, "%s: not allowed for kind match", k)
			}
		}
	case KindThreshold:
		stateful()
	case KindDistinct:
		if r.Distinct == "" {
			c.errf("kind", "distinct: required for kind distinct")
		}
		stateful()
	case "":
		c.errf("kind", "kind: required (match, threshold or distinct)")
	default:
		c.errf("kind", "kind %q: want match, threshold or distinct", r.Kind)
	}
}

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
