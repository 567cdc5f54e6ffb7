package posture

import (
	"fmt"
	"io"
	"testing"

	"github.com/castellan-itdr/castellan/mappings/directory"
)

// largeSnapshot is the fixture grown to users users, users/5 computers and
// users/20 groups nested as a binary tree, a few percent of them weak.
func largeSnapshot(users int) *directory.Snapshot {
	s := fixture()
	for i := range users / 20 {
		g := group(fmt.Sprintf("team-%d", i), sid(100000+i))
		for _, child := range []int{2*i + 1, 2*i + 2} { // a binary tree of teams: nesting depth log2(groups)
			if child < users/20 {
				g.Members = append(g.Members, dn(fmt.Sprintf("team-%d", child)))
			}
		}
		s.Groups = append(s.Groups, g)
	}
	for i := range users {
		u := user(fmt.Sprintf("user%05d", i), 200000+i, 0)
		switch i % 50 {
		case 1:
			u.UAC |= directory.UACDontReqPreauth
		case 2:
			u.SPNs = []string{fmt.Sprintf("http/app%d.corp.test", i)}
		case 3:
			u.UAC |= directory.UACPasswdNotReqd
		}
		s.Users = append(s.Users, u)
		g := &s.Groups[len(s.Groups)-1-(i%(users/20))]
		g.Members = append(g.Members, u.DN)
	}
	for i := range users / 5 {
		c := s.Computers[1]
		c.DN = fmt.Sprintf("CN=WS%05d,CN=Computers,%s", i, base)
		c.SAMAccountName = fmt.Sprintf("WS%05d$", i)
		c.SID = sid(400000 + i)
		if i%10 == 0 {
			c.LAPS = directory.LAPS{}
		}
		s.Computers = append(s.Computers, c)
	}
	s.Resolve()
	return s
}

// BenchmarkCheck runs every assessment over a 10,000-user domain.
func BenchmarkCheck(b *testing.B) {
	s := largeSnapshot(10000)
	b.ReportAllocs()
	var findings int
	for b.Loop() {
		findings = len(Check(s, Options{}).Failed())
	}
	b.ReportMetric(float64(findings), "findings")
}

// BenchmarkWriteReport renders the report of that run.
func BenchmarkWriteReport(b *testing.B) {
	run := Check(largeSnapshot(10000), Options{})
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteReport(io.Discard, run, ReportOptions{History: exampleHistory()}); err != nil {
			b.Fatal(err)
		}
	}
}
