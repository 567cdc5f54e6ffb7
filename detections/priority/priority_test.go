package priority

import (
	"fmt"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func alert(id, rule, kind, user string, sev schema.Severity, at time.Duration) schema.Alert {
	return schema.Alert{ID: id, Timestamp: t0.Add(at), Rule: schema.RuleRef{ID: rule, Title: rule + " title", Kind: kind},
		Severity: sev, Threat: schema.Threat{Technique: schema.Technique{ID: "T1078"}},
		User: schema.User{Name: user, Domain: "LAB"}}
}

func TestScoreExplainedAndPercentile(t *testing.T) {
	tr := New(Options{})
	tr.Add(alert("a1", "kerberoasting-rc4-burst", "distinct", "svc-sql", schema.SeverityHigh, 0))
	tr.Add(alert("a2", "cloud-impossible-travel", "travel", "svc-sql", schema.SeverityMedium, time.Hour))
	tr.Add(alert("a3", "cloud-impossible-travel", "travel", "svc-sql", schema.SeverityMedium, 2*time.Hour))
	tr.Add(alert("a3", "cloud-impossible-travel", "travel", "svc-sql", schema.SeverityMedium, 2*time.Hour)) // duplicate
	tr.Add(alert("b1", "cloud-legacy-auth-signin", "match", "jdoe", schema.SeverityLow, time.Hour))
	tr.Add(alert("c1", "cloud-legacy-auth-signin", "match", "asmith", schema.SeverityLow, time.Hour))
	top := tr.Top(0)
	if len(top) != 3 {
		t.Fatalf("top = %+v", top)
	}
	s := top[0]
	if s.Identity != `LAB\svc-sql` || s.Score != 50 || s.Percentile != 100 || len(s.Factors) != 2 {
		t.Fatalf("svc-sql = %+v", s)
	}
	if f := s.Factors[0]; f.RuleID != "kerberoasting-rc4-burst" || f.Kind != KindAlert || f.Points != 30 || f.Count != 1 {
		t.Errorf("first factor %+v", f)
	}
	if f := s.Factors[1]; f.RuleID != "cloud-impossible-travel" || f.Kind != KindActivity || f.Points != 20 || f.Count != 2 || !f.LastSeen.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("second factor %+v", f)
	}
	if top[1].Score != 5 || top[1].Percentile != 66 || top[2].Percentile != 66 {
		t.Errorf("low scorers %+v %+v", top[1], top[2])
	}
	if got := tr.Top(1); len(got) != 1 || got[0].Identity != `LAB\svc-sql` {
		t.Errorf("Top(1) = %+v", got)
	}
}

// Alerts older than the window stop counting: the score is the last 7 days'.
func TestWindowAndSnapshot(t *testing.T) {
	tr := New(Options{})
	tr.Add(alert("old", "r", "match", "jdoe", schema.SeverityCritical, 0))
	tr.Add(alert("new", "r", "match", "jdoe", schema.SeverityHigh, 8*24*time.Hour))
	if top := tr.Top(0); len(top) != 1 || top[0].Score != 30 {
		t.Fatalf("after 8 days: %+v", top)
	}
	snap, err := tr.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	tr2 := New(Options{})
	if err := tr2.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if top := tr2.Top(0); len(top) != 1 || top[0].Score != 30 || top[0].Identity != `LAB\jdoe` {
		t.Fatalf("restored: %+v", top)
	}
	if err := tr2.Restore([]byte("{")); err == nil {
		t.Error("bad snapshot accepted")
	}
}

func TestAnnotateAndBound(t *testing.T) {
	tr := New(Options{MaxIdentities: 3})
	for i := range 5 {
		tr.Add(alert(fmt.Sprint(i), "r", "match", fmt.Sprintf("u%d", i), schema.SeverityMedium, time.Duration(i)*time.Minute))
	}
	if n := len(tr.Top(0)); n != 3 {
		t.Errorf("%d identities held, want 3", n)
	}
	incs := []schema.Incident{{Entities: schema.Entities{Users: []string{`LAB\u4`, "nobody", "u3"}}}, {}}
	tr.Annotate(incs)
	if p := incs[0].Priority; len(p) != 2 || p[0].Score != 10 || p[0].Factors[0].Title != "r title" {
		t.Errorf("priority %+v", p)
	}
	if incs[1].Priority != nil {
		t.Error("incident without users got a priority")
	}
}

func BenchmarkAdd(b *testing.B) {
	tr := New(Options{})
	as := make([]schema.Alert, 512)
	for i := range as {
		as[i] = alert(fmt.Sprint(i), "r", "match", fmt.Sprintf("u%d", i%64), schema.SeverityHigh, time.Duration(i)*time.Second)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		tr.Add(as[i%len(as)])
	}
}

// BenchmarkAnnotate scores 10,000 identities (3 alerts each) and annotates
// one incident: the per-batch cost when incidents change.
func BenchmarkAnnotate(b *testing.B) {
	tr := New(Options{})
	for i := range 30_000 {
		tr.Add(alert(fmt.Sprint(i), fmt.Sprintf("r%d", i%7), "match", fmt.Sprintf("u%d", i%10_000), schema.SeverityHigh, time.Duration(i)*time.Second))
	}
	incs := []schema.Incident{{Entities: schema.Entities{Users: []string{"u1", "u2"}}}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tr.Annotate(incs)
	}
}
