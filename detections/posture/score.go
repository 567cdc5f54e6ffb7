package posture

import (
	"math"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// Weight is how much a failed assessment of a severity costs in the score:
// critical 10, high 6, medium 3, low 1, informational 0.
//
// The score of a set of assessments is
//
//	100 × (1 − Σ weight(failed) / Σ weight(applicable))
//
// rounded to the nearest integer, where "applicable" is every assessment
// that ran (passed or failed; not-applicable and errored ones are left
// out). An assessment counts once however many entities it affects: fixing
// the last of ten Kerberoastable admins is what moves the score. The total
// is that formula over all assessments, so a category weighs in by the
// severities it holds; each category's score is the formula over its own.
func Weight(s schema.Severity) int {
	switch s {
	case schema.SeverityCritical:
		return 10
	case schema.SeverityHigh:
		return 6
	case schema.SeverityMedium:
		return 3
	case schema.SeverityLow:
		return 1
	}
	return 0
}

// Score is a run's posture score.
type Score struct {
	// Total is 0–100 (100: every applicable assessment passed).
	Total      int             `json:"total"`
	Categories []CategoryScore `json:"categories"`
	// Failed counts failed assessments by severity name; Findings counts
	// findings (affected entities) by severity name.
	Failed   map[string]int `json:"failed"`
	Findings map[string]int `json:"findings"`
	Passed   int            `json:"passed"`
	Skipped  int            `json:"skipped"` // not applicable or errored
}

// CategoryScore is one category's part of the score.
type CategoryScore struct {
	Category Category `json:"category"`
	Score    int      `json:"score"`
	Assessed int      `json:"assessed"`
	Failed   int      `json:"failed"`
}

// ScoreOf computes the score of a run's results (see Weight).
func ScoreOf(results []Result) Score {
	s := Score{Failed: map[string]int{}, Findings: map[string]int{}}
	type acc struct{ lost, total, assessed, failed int }
	per := map[Category]*acc{}
	var all acc
	for _, r := range results {
		a := r.Assessment
		if r.Status != StatusFailed && r.Status != StatusPassed {
			s.Skipped++
			continue
		}
		c := per[a.Category]
		if c == nil {
			c = &acc{}
			per[a.Category] = c
		}
		w := Weight(a.Severity)
		c.total += w
		all.total += w
		c.assessed++
		if r.Status == StatusFailed {
			c.lost += w
			all.lost += w
			c.failed++
			s.Failed[a.Severity.String()]++
			s.Findings[a.Severity.String()] += len(r.Findings)
		} else {
			s.Passed++
		}
	}
	s.Total = percent(all.lost, all.total)
	for _, cat := range Categories() {
		if c := per[cat]; c != nil {
			s.Categories = append(s.Categories, CategoryScore{Category: cat, Score: percent(c.lost, c.total), Assessed: c.assessed, Failed: c.failed})
		}
	}
	return s
}

func percent(lost, total int) int {
	if total == 0 {
		return 100
	}
	return int(math.Round(100 * (1 - float64(lost)/float64(total))))
}
