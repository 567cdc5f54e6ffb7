package sigma

import (
	"github.com/castellan-itdr/castellan/internal/corpus"
	"os"
	"sort"
	"testing"
)

func sigmaHQDir(tb testing.TB) string {
	tb.Helper()
	return corpus.Dir(tb, "sigmahq-rules")
}

// TestSigmaHQCorpus loads the 181 SigmaHQ rules of the shared corpus and
// logs how many load and why each other one does not.
func TestSigmaHQCorpus(t *testing.T) {
	dir := sigmaHQDir(t)
	rules, problems, err := Load(os.DirFS(dir), ".")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("SigmaHQ corpus: %d rules loaded, %d problems", len(rules), len(problems))
	sort.Slice(problems, func(i, j int) bool { return problems[i].Reason < problems[j].Reason })
	for _, p := range problems {
		t.Logf("  %s (%s): %s", p.File, p.RuleID, p.Reason)
	}
	if len(rules)+len(problems) != 181 {
		t.Errorf("loaded %d + problems %d, want 181 rules accounted for", len(rules), len(problems))
	}
	if len(rules) < 170 {
		t.Errorf("only %d of 181 SigmaHQ rules load", len(rules))
	}
	if _, err := NewSet(rules, Options{}); err != nil {
		t.Fatal(err)
	}
}
