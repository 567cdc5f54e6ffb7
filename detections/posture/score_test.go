package posture

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/mappings/schema"
	bolt "go.etcd.io/bbolt"
)

func TestScoreWeighting(t *testing.T) {
	mk := func(cat Category, sev schema.Severity, status string, findings int) Result {
		return Result{Assessment: &Assessment{ID: "x", Category: cat, Severity: sev}, Status: status, Findings: make([]schema.Finding, findings)}
	}
	s := ScoreOf([]Result{
		mk(CategoryDomain, schema.SeverityCritical, StatusFailed, 3), // lose 10
		mk(CategoryDomain, schema.SeverityLow, StatusPassed, 0),      // 1
		mk(CategoryAccounts, schema.SeverityHigh, StatusPassed, 0),   // 6
		mk(CategoryAccounts, schema.SeverityMedium, StatusFailed, 1), // lose 3
		mk(CategoryEntra, schema.SeverityHigh, StatusNotApplicable, 0),
		mk(CategoryADCS, schema.SeverityHigh, StatusError, 0),
	})
	// total weight 10+1+6+3 = 20, lost 13 → 35; domain 10/11 lost → 9; accounts 3/9 lost → 67.
	if s.Total != 35 {
		t.Errorf("total %d, want 35", s.Total)
	}
	want := []CategoryScore{{CategoryAccounts, 67, 2, 1}, {CategoryDomain, 9, 2, 1}}
	if len(s.Categories) != 2 || s.Categories[0] != want[0] || s.Categories[1] != want[1] {
		t.Errorf("categories %+v, want %+v", s.Categories, want)
	}
	if s.Failed["critical"] != 1 || s.Findings["critical"] != 3 || s.Findings["medium"] != 1 || s.Passed != 2 || s.Skipped != 2 {
		t.Errorf("counts %+v", s)
	}
	if empty := ScoreOf(nil); empty.Total != 100 {
		t.Errorf("no assessments: %d", empty.Total)
	}
}

func TestHistory(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "s.db"), 0o600, &bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if pts, _, err := History(db, 0); err != nil || len(pts) != 0 {
		t.Fatalf("empty history: %v %v", pts, err)
	}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range MaxHistory + 5 {
		p := HistoryPoint{At: at.Add(time.Duration(i) * time.Hour), Score: Score{Total: i % 101}}
		if err := db.Update(func(tx *bolt.Tx) error { return SaveHistory(tx, p) }); err != nil {
			t.Fatal(err)
		}
	}
	// A point from a future version that does not decode is skipped.
	if err := db.Update(func(tx *bolt.Tx) error { return tx.Bucket(historyBucket).Put([]byte("zzzzzzzzz"), []byte("{bad")) }); err != nil {
		t.Fatal(err)
	}
	pts, bad, err := History(db, 0)
	if err != nil || bad != 1 {
		t.Fatalf("history: bad %d err %v", bad, err)
	}
	if len(pts) != MaxHistory {
		t.Errorf("%d points kept, want %d", len(pts), MaxHistory)
	}
	if !pts[0].At.Equal(at.Add(5*time.Hour)) || pts[len(pts)-1].Score.Total != (MaxHistory+4)%101 || !pts[len(pts)-1].At.Equal(at.Add((MaxHistory+4)*time.Hour)) {
		t.Errorf("oldest %v newest %+v", pts[0].At, pts[len(pts)-1])
	}
	last3, _, _ := History(db, 3)
	if len(last3) != 3 || !last3[2].At.Equal(pts[len(pts)-1].At) || !last3[0].At.Before(last3[1].At) {
		t.Errorf("last 3: %+v", last3)
	}
}
