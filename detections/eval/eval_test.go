package eval

import (
	"bytes"
	"strings"
	"testing"
)

func TestMatches(t *testing.T) {
	cases := []struct {
		label, alert string
		want         bool
	}{
		{"T1558.003", "T1558.003", true},
		{"T1558.003", "T1558", true},      // the label's parent
		{"T1558.003", "T1558.004", false}, // a sibling is not the labelled attack
		{"T1558", "T1558.003", true},      // a parent-level label accepts its sub-techniques
		{"T1098.xxx", "T1098.005", true},
		{"T1098.xxx", "T1099", false},
		{"T1003.006", "T1110.003", false},
	}
	for _, c := range cases {
		if got := Matches(c.label, c.alert); got != c.want {
			t.Errorf("Matches(%s, %s) = %v", c.label, c.alert, got)
		}
	}
}

func TestManifestScoreAndReport(t *testing.T) {
	manifest := "path\ttactic\ttechnique\trecords\n" +
		"a.evtx\tTA0006\tT1558.003\t4\n" +
		"b.evtx\tTA0006\tT1003.006\t2\n" +
		"c.evtx\t\t\t1\n" + // unlabelled: skipped
		"d.evtx\t\tT1070.001\t1\n" // tactic derived from the technique
	entries, err := ReadManifest(strings.NewReader(manifest))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 || entries[2].Tactic != "TA0005" {
		t.Fatalf("entries %+v", entries)
	}
	results := []FileResult{
		Score(entries[0], 4, []string{"T1558.003", "T1558.003", "T1110.003"}),
		Score(entries[1], 2, nil),
		Score(entries[2], 1, []string{"T1070.001"}),
	}
	if !results[0].Detected || results[0].Other != 1 || len(results[0].Techniques) != 2 {
		t.Fatalf("score %+v", results[0])
	}
	var b bytes.Buffer
	if err := Report(&b, results); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if last := lines[len(lines)-1]; last != "recall 2/3 (66.7%)" {
		t.Fatalf("last line %q\n%s", last, out)
	}
	if !strings.Contains(out, "recall 1/2 (50.0%)") {
		t.Fatalf("identity recall missing:\n%s", out)
	}
	if _, err := ReadManifest(strings.NewReader("file\tlabel\n")); err == nil {
		t.Fatal("bad header accepted")
	}
}
