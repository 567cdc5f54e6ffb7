package posture

import "sync"

var catalog = sync.OnceValue(func() []*Assessment {
	var all []*Assessment
	for _, part := range [][]*Assessment{delegationAssessments(), accountAssessments(), privilegedAssessments(), domainAssessments(), adcsAssessments(), entraAssessments()} {
		for _, a := range part {
			if a.Needs == NeedsAD && a.Category == CategoryADCS {
				a.Needs = NeedsADCS
			}
			all = append(all, a)
		}
	}
	return all
})

// Assessments lists every assessment in report order (by category, then
// as declared). The slice and its values are shared: do not modify them.
func Assessments() []*Assessment {
	out := make([]*Assessment, 0, len(catalog()))
	for _, c := range Categories() {
		for _, a := range catalog() {
			if a.Category == c {
				out = append(out, a)
			}
		}
	}
	return out
}
