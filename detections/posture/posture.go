package posture

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/castellan-itdr/castellan/mappings/directory"
	"github.com/castellan-itdr/castellan/mappings/mitre"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// Category groups assessments in the score breakdown and the report.
type Category string

// Categories, in report order.
const (
	CategoryDelegation Category = "Kerberos delegation"
	CategoryAccounts   Category = "Account security"
	CategoryPrivileged Category = "Privileged access"
	CategoryDomain     Category = "Domain configuration"
	CategoryGPO        Category = "Group Policy"
	CategoryADCS       Category = "Certificate services"
	CategoryEntra      Category = "Entra ID and hybrid"
)

// Categories lists every category in report order.
func Categories() []Category {
	return []Category{CategoryDelegation, CategoryAccounts, CategoryPrivileged, CategoryDomain, CategoryGPO, CategoryADCS, CategoryEntra}
}

// Needs names the part of a snapshot an assessment reads; an assessment
// whose part was not collected is not applicable (neither passed nor
// failed, and left out of the score).
type Needs int

// Snapshot parts.
const (
	NeedsAD    Needs = iota // users, computers, groups, the domain object
	NeedsADCS               // certificate templates (configuration partition)
	NeedsEntra              // the Entra ID snapshot
)

// Assessment is one posture check.
type Assessment struct {
	// ID is stable and kebab-case, e.g. "unconstrained-delegation".
	ID       string
	Title    string
	Severity schema.Severity
	Category Category
	// Description says what the assessment checks and why it matters.
	Description string
	// Remediation lists the steps that fix a finding, in order.
	Remediation []string
	// Technique is the ATT&CK technique an attacker uses on the weakness
	// ("" when none applies).
	Technique string
	// MDI names the Defender for Identity assessment it answers ("" when
	// MDI has none).
	MDI   string
	Needs Needs

	check func(v *view) []hit
}

// hit is one affected entity (or set of related entities) with the proof.
type hit struct {
	entities []string
	evidence string
}

// Status of an assessment in a run.
const (
	StatusFailed        = "failed"
	StatusPassed        = "passed"
	StatusNotApplicable = "not_applicable"
	StatusError         = "error"
)

// Result is one assessment's outcome in a run.
type Result struct {
	Assessment *Assessment
	// Status is StatusFailed (Findings holds one finding per hit),
	// StatusPassed, StatusNotApplicable (its snapshot part was not
	// collected) or StatusError (the check failed; Err says why).
	Status   string
	Findings []schema.Finding
	Err      string
}

// Run is the outcome of Check: every assessment's result and the score.
type Run struct {
	SnapshotID string
	At         time.Time
	Domain     string
	Results    []Result
	Score      Score
}

// Options tune Check.
type Options struct {
	// Now is the reference time for password and logon ages; default the
	// snapshot's collection time.
	Now time.Time
	// Disabled lists assessment ids that are not run.
	Disabled []string
}

// Check runs every assessment on a snapshot. A check that panics on
// unexpected data is reported as StatusError, not a crash.
func Check(s *directory.Snapshot, o Options) Run {
	if o.Now.IsZero() {
		o.Now = s.Taken
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	v := newView(s, o.Now)
	run := Run{SnapshotID: snapshotID(s), At: o.Now.UTC(), Domain: v.domainName()}
	for _, a := range Assessments() {
		if slices.Contains(o.Disabled, a.ID) {
			continue
		}
		run.Results = append(run.Results, a.run(v, run.SnapshotID, run.At))
	}
	run.Score = ScoreOf(run.Results)
	return run
}

func (a *Assessment) run(v *view, snapshotID string, at time.Time) (res Result) {
	res.Assessment = a
	if !v.has(a.Needs) {
		res.Status = StatusNotApplicable
		return res
	}
	defer func() {
		if r := recover(); r != nil {
			res = Result{Assessment: a, Status: StatusError, Err: fmt.Sprintf("check panicked: %v", r)}
		}
	}()
	hits := a.check(v)
	if len(hits) == 0 {
		res.Status = StatusPassed
		return res
	}
	res.Status = StatusFailed
	for _, h := range mergeHits(hits) {
		res.Findings = append(res.Findings, a.finding(h, snapshotID, at))
	}
	return res
}

// mergeHits joins hits on the same entities (one finding per entity set,
// so finding ids stay unique) and sorts them by entity.
func mergeHits(hits []hit) []hit {
	key := func(h hit) string { return strings.ToLower(strings.Join(h.entities, "\x00")) }
	byKey := map[string]int{}
	var out []hit
	for _, h := range hits {
		k := key(h)
		if i, ok := byKey[k]; ok {
			if !strings.Contains(out[i].evidence, h.evidence) {
				out[i].evidence += "; " + h.evidence
			}
			continue
		}
		byKey[k] = len(out)
		out = append(out, h)
	}
	sort.SliceStable(out, func(i, j int) bool { return key(out[i]) < key(out[j]) })
	return out
}

func (a *Assessment) finding(h hit, snapshotID string, at time.Time) schema.Finding {
	return schema.Finding{
		ID:           schema.FindingID(a.ID, snapshotID, h.entities),
		Timestamp:    at,
		AssessmentID: a.ID,
		Title:        a.Title,
		Severity:     a.Severity,
		Status:       StatusFailed,
		Evidence:     h.evidence,
		Entities:     h.entities,
		Remediation:  a.RemediationText(),
		Threat:       a.threat(),
	}
}

// RemediationText is the remediation steps as one numbered text.
func (a *Assessment) RemediationText() string {
	var b strings.Builder
	for i, s := range a.Remediation {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%d. %s", i+1, s)
	}
	return b.String()
}

// threat maps Technique onto the schema's ATT&CK shape (the technique's
// first tactic).
func (a *Assessment) threat() schema.Threat {
	if a.Technique == "" {
		return schema.Threat{}
	}
	t := schema.Threat{Framework: "MITRE ATT&CK", Technique: schema.Technique{ID: a.Technique}}
	if mt, ok := mitre.LookupTechnique(a.Technique); ok {
		t.Technique.Name = mt.FullName()
		if len(mt.Tactics) > 0 {
			t.Tactic = schema.Tactic{ID: mt.Tactics[0]}
			if tac, ok := mitre.LookupTactic(mt.Tactics[0]); ok {
				t.Tactic.Name = tac.Name
			}
		}
	}
	return t
}

// Records returns what a run exports: every failed finding, and one
// "passed" finding per assessment that passed (no entities), so a SIEM sees
// a weakness resolved; errors are exported as "error" findings.
func (r Run) Records() []schema.Record {
	var out []schema.Record
	for _, res := range r.Results {
		a := res.Assessment
		switch res.Status {
		case StatusFailed:
			for _, f := range res.Findings {
				out = append(out, f)
			}
		case StatusPassed, StatusError:
			f := a.finding(hit{}, r.SnapshotID, r.At)
			f.ID = schema.FindingID(a.ID, r.SnapshotID, []string{res.Status})
			f.Status = res.Status
			f.Evidence = res.Err
			if res.Status == StatusPassed {
				f.Severity = schema.SeverityInformational
			}
			out = append(out, f)
		}
	}
	return out
}

// Failed returns the failed findings of a run, in assessment order.
func (r Run) Failed() []schema.Finding {
	var out []schema.Finding
	for _, res := range r.Results {
		out = append(out, res.Findings...)
	}
	return out
}

// AssessmentByID returns the assessment with an id, or nil.
func AssessmentByID(id string) *Assessment {
	for _, a := range Assessments() {
		if a.ID == id {
			return a
		}
	}
	return nil
}

// snapshotID identifies a snapshot in finding ids: the domain and the
// collection time.
func snapshotID(s *directory.Snapshot) string {
	if s.ID != "" {
		return s.ID
	}
	return schema.StableID("snapshot", strings.ToLower(domainDN(s)), s.Taken.UTC().Format(time.RFC3339Nano))
}
