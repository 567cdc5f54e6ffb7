package posture

import (
	"slices"
	"strings"
	"testing"

	"github.com/castellan-itdr/castellan/mappings/directory"
	"github.com/castellan-itdr/castellan/mappings/mitre"
)

func checkFixture(t *testing.T, mutate func(fx)) Run {
	t.Helper()
	s := fixture()
	if mutate != nil {
		mutate(fx{s})
	}
	s.Resolve()
	return Check(s, Options{})
}

func resultOf(r Run, id string) Result {
	for _, res := range r.Results {
		if res.Assessment.ID == id {
			return res
		}
	}
	return Result{}
}

func failedIDs(r Run) []string {
	var out []string
	for _, res := range r.Results {
		if res.Status == StatusFailed {
			out = append(out, res.Assessment.ID)
		}
	}
	return out
}

func TestCleanFixturePassesEverything(t *testing.T) {
	r := checkFixture(t, nil)
	for _, res := range r.Results {
		if res.Status != StatusPassed {
			t.Errorf("%s: status %s on the clean fixture: %v %s", res.Assessment.ID, res.Status, res.Findings, res.Err)
		}
	}
	if r.Score.Total != 100 {
		t.Errorf("clean score = %d, want 100", r.Score.Total)
	}
}

// TestAssessmentSamples is the meta-test: every assessment has a positive
// and a negative sample; the positive fails exactly that assessment's
// check for the expected entity, the negative leaves it passing.
func TestAssessmentSamples(t *testing.T) {
	for _, a := range Assessments() {
		c, ok := cases[a.ID]
		if !ok || c.pos.mutate == nil || c.neg.mutate == nil || c.pos.entity == "" {
			t.Errorf("%s: needs a positive sample (with its entity) and a negative sample", a.ID)
			continue
		}
		t.Run(a.ID+"/positive", func(t *testing.T) {
			r := checkFixture(t, c.pos.mutate)
			res := resultOf(r, a.ID)
			if res.Status != StatusFailed {
				t.Fatalf("status %s, want failed", res.Status)
			}
			var found bool
			for _, f := range res.Findings {
				if slices.Contains(f.Entities, c.pos.entity) {
					found = true
				}
				if f.Evidence == "" || f.Remediation == "" || f.AssessmentID != a.ID || f.Status != StatusFailed || f.ID == "" {
					t.Errorf("incomplete finding %+v", f)
				}
			}
			if !found {
				t.Errorf("no finding names %q: %+v", c.pos.entity, res.Findings)
			}
			if r.Score.Total >= 100 {
				t.Errorf("score %d with a failed assessment", r.Score.Total)
			}
		})
		t.Run(a.ID+"/negative", func(t *testing.T) {
			r := checkFixture(t, c.neg.mutate)
			if res := resultOf(r, a.ID); res.Status != StatusPassed {
				t.Errorf("status %s, want passed: %+v", res.Status, res.Findings)
			}
		})
	}
	for id := range cases {
		if AssessmentByID(id) == nil {
			t.Errorf("case for unknown assessment %q", id)
		}
	}
}

func TestCatalog(t *testing.T) {
	all := Assessments()
	if len(all) < 30 {
		t.Errorf("%d assessments, want at least 30", len(all))
	}
	seen := map[string]bool{}
	for _, a := range all {
		if seen[a.ID] {
			t.Errorf("duplicate id %s", a.ID)
		}
		seen[a.ID] = true
		if a.ID != strings.ToLower(a.ID) || strings.ContainsAny(a.ID, " _") {
			t.Errorf("%s: id must be kebab-case", a.ID)
		}
		if a.Title == "" || a.Description == "" || len(a.Remediation) == 0 || a.MDI == "" || a.check == nil {
			t.Errorf("%s: title, description, remediation, MDI and check are required", a.ID)
		}
		if !slices.Contains(Categories(), a.Category) {
			t.Errorf("%s: unknown category %q", a.ID, a.Category)
		}
		if a.Technique != "" {
			if _, ok := mitre.LookupTechnique(a.Technique); !ok {
				t.Errorf("%s: unknown ATT&CK technique %s", a.ID, a.Technique)
			}
		}
	}
}

func TestEvidenceSaysHowItWasDetected(t *testing.T) {
	r := checkFixture(t, func(f fx) {
		f.computer("WS1$").UAC |= directory.UACTrustedForDelegation
		f.s.Domain.ACL.DACL = append(f.s.Domain.ACL.DACL,
			allow(sid(1102), directory.RightExtendedRight, directory.GUIDReplicationGetChanges),
			allow(sid(1102), directory.RightExtendedRight, directory.GUIDReplicationGetChangesAll))
	})
	uc := resultOf(r, "unconstrained-delegation").Findings
	if len(uc) != 1 || !strings.HasPrefix(uc[0].Evidence, "userAccountControl 0x80000 (TRUSTED_FOR_DELEGATION) on CN=WS1,CN=Computers,DC=corp,DC=test") {
		t.Errorf("unconstrained evidence: %+v", uc)
	}
	ds := resultOf(r, "dcsync-rights").Findings
	if len(ds) != 1 || !strings.Contains(ds[0].Evidence, "1131f6aa-9c07-11d1-f79f-00c04fc2dcd2(DS-Replication-Get-Changes)") ||
		!strings.Contains(ds[0].Evidence, "1131f6ad-9c07-11d1-f79f-00c04fc2dcd2(DS-Replication-Get-Changes-All)") || !strings.Contains(ds[0].Evidence, "alice") {
		t.Errorf("dcsync evidence: %+v", ds)
	}
	if ds[0].Threat.Technique.ID != "T1003.006" || ds[0].Threat.Tactic.ID == "" {
		t.Errorf("dcsync threat: %+v", ds[0].Threat)
	}
}

func TestOneFindingPerEntity(t *testing.T) {
	r := checkFixture(t, func(f fx) {
		g := &f.s.GPOs[0]
		g.ACL.Owner = sid(1102)
		g.ACL.DACL = append(g.ACL.DACL, allow(sid(1102), directory.RightGenericAll, ""), allow(sid(1102), directory.RightWriteDacl, ""))
	})
	fs := resultOf(r, "gpo-writable-by-unprivileged").Findings
	if len(fs) != 1 {
		t.Fatalf("%d findings, want 1 merged: %+v", len(fs), fs)
	}
	if !strings.Contains(fs[0].Evidence, "owner is alice") || !strings.Contains(fs[0].Evidence, "GenericAll") {
		t.Errorf("merged evidence: %s", fs[0].Evidence)
	}
	ids := map[string]bool{}
	all := checkFixture(t, func(f fx) {
		for _, c := range cases {
			c.pos.mutate(f)
		}
	})
	for _, f := range all.Failed() {
		if ids[f.ID] {
			t.Errorf("duplicate finding id %s (%s %v)", f.ID, f.AssessmentID, f.Entities)
		}
		ids[f.ID] = true
	}
	if got := failedIDs(all); len(got) < 25 {
		t.Errorf("the positives together fail only %d assessments: %v", len(got), got)
	}
}

func TestNotApplicableWithoutData(t *testing.T) {
	r := checkFixture(t, func(f fx) {
		f.s.Entra = nil
		f.s.CertTemplates, f.s.EnrollmentServices = nil, nil
	})
	for _, res := range r.Results {
		want := StatusPassed
		if res.Assessment.Needs != NeedsAD {
			want = StatusNotApplicable
		}
		if res.Status != want {
			t.Errorf("%s: %s, want %s", res.Assessment.ID, res.Status, want)
		}
	}
	if r.Score.Skipped != 8 {
		t.Errorf("skipped %d, want 8 (5 AD CS + 3 Entra)", r.Score.Skipped)
	}
}

func TestCheckSurvivesPanics(t *testing.T) {
	a := &Assessment{ID: "boom", Severity: 1, Category: CategoryDomain, check: func(*view) []hit { panic("bad data") }}
	s := fixture()
	s.Resolve()
	res := a.run(newView(s, fixtureNow), "x", fixtureNow)
	if res.Status != StatusError || !strings.Contains(res.Err, "bad data") {
		t.Errorf("%+v", res)
	}
}

func TestRecords(t *testing.T) {
	r := checkFixture(t, func(f fx) { f.user("alice").UAC |= directory.UACDontReqPreauth })
	recs := r.Records()
	var failed, passed int
	for _, rec := range recs {
		f := rec.(interface{ RecordKind() string })
		if f.RecordKind() != "finding" {
			t.Fatalf("kind %s", f.RecordKind())
		}
	}
	for _, res := range r.Results {
		switch res.Status {
		case StatusFailed:
			failed += len(res.Findings)
		case StatusPassed:
			passed++
		}
	}
	if failed != 1 || len(recs) != failed+passed {
		t.Errorf("records %d, failed findings %d, passed %d", len(recs), failed, passed)
	}
}
