package correlate

import (
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

var t0 = time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)

func alert(id, rule, tactic, technique string, sev schema.Severity, at time.Duration, user, ip string, group map[string]string) schema.Alert {
	ts := t0.Add(at)
	return schema.Alert{
		ID: id, Timestamp: ts, FirstSeen: ts, LastSeen: ts, Severity: sev,
		Rule:     schema.RuleRef{ID: rule, Title: rule},
		Threat:   schema.Threat{Framework: schema.FrameworkATTACK, Tactic: schema.Tactic{ID: tactic}, Technique: schema.Technique{ID: technique}},
		User:     schema.User{Name: user, Domain: "CORP"},
		Source:   schema.Endpoint{IP: ip},
		GroupKey: group,
	}
}

// The demo chain: enumeration and spray keyed by IP, Kerberoasting keyed by
// user from that IP, DCSync by the user with no IP. One incident.
func chain() []schema.Alert {
	return []schema.Alert{
		alert("enum", "kerberos-account-enumeration", "TA0007", "T1087.002", schema.SeverityMedium, 0, "admin", "10.1.66.6", map[string]string{"source.ip": "10.1.66.6"}),
		alert("spray", "password-spray", "TA0006", "T1110.003", schema.SeverityHigh, 5*time.Minute, "victim9", "10.1.66.6", map[string]string{"source.ip": "10.1.66.6"}),
		alert("roast", "kerberoasting-rc4-burst", "TA0006", "T1558.003", schema.SeverityHigh, 20*time.Minute, "jdoe", "10.1.66.6", map[string]string{"user.name": "jdoe"}),
		alert("dcsync", "dcsync-non-dc", "TA0006", "T1003.006", schema.SeverityHigh, 30*time.Minute, "jdoe", "", nil),
		alert("clear", "security-log-cleared", "TA0005", "T1070.001", schema.SeverityHigh, 40*time.Minute, "jdoe", "", nil),
	}
}

func TestChainFormsOneIncident(t *testing.T) {
	c := New(Options{})
	for _, a := range chain() {
		c.Add(a)
	}
	// An unrelated user's alert stays apart.
	c.Add(alert("other", "asrep-roasting", "TA0006", "T1558.004", schema.SeverityHigh, time.Hour, "alice", "10.1.3.3", nil))
	out := c.Flush()
	if len(out) != 2 {
		t.Fatalf("flushed %d incidents, want 2: %+v", len(out), out)
	}
	inc := out[0]
	if len(inc.Alerts) != 5 || inc.Version != 1 || inc.Status != schema.IncidentOpen {
		t.Fatalf("incident: %d alerts, version %d, status %s", len(inc.Alerts), inc.Version, inc.Status)
	}
	var tactics []string
	for _, tc := range inc.Threat.Tactics {
		tactics = append(tactics, tc.ID)
	}
	// Kill-chain order: Defense Evasion (TA0005) before Credential Access
	// (TA0006) before Discovery (TA0007).
	if want := []string{"TA0005", "TA0006", "TA0007"}; !equal(tactics, want) {
		t.Fatalf("tactics %v, want %v", tactics, want)
	}
	if inc.Severity != schema.SeverityCritical {
		t.Fatalf("severity %s, want critical (high raised for 3 tactics)", inc.Severity)
	}
	if !equal(inc.Entities.Users, []string{`CORP\jdoe`}) || !equal(inc.Entities.IPs, []string{"10.1.66.6"}) {
		t.Fatalf("entities %+v", inc.Entities)
	}
	if inc.ID != schema.IncidentID("enum") || !inc.FirstSeen.Equal(t0) || !inc.LastSeen.Equal(t0.Add(40*time.Minute)) {
		t.Fatalf("id/first/last: %s %v %v", inc.ID, inc.FirstSeen, inc.LastSeen)
	}
	if out[1].Entities.Users[0] != `CORP\alice` || out[1].Severity != schema.SeverityHigh {
		t.Fatalf("second incident %+v", out[1])
	}
	// Nothing changed: nothing to flush. A duplicate alert changes nothing.
	c.Add(chain()[0])
	if got := c.Flush(); len(got) != 0 {
		t.Fatalf("re-flushed %d", len(got))
	}
	if c.Stats().Duplicates != 1 {
		t.Fatal("duplicate not counted")
	}
}

func TestVersionGrowsOnUpdate(t *testing.T) {
	c := New(Options{})
	a := chain()
	c.Add(a[2])
	v1 := c.Flush()[0]
	c.Add(a[3])
	v2 := c.Flush()[0]
	if v1.ID != v2.ID || v1.Version != 1 || v2.Version != 2 || len(v2.Alerts) != 2 {
		t.Fatalf("v1 %s/%d v2 %s/%d", v1.ID, v1.Version, v2.ID, v2.Version)
	}
}

func TestWindowClosesAndStartsNew(t *testing.T) {
	c := New(Options{Window: time.Hour})
	c.Add(alert("a1", "r", "TA0006", "T1003.006", schema.SeverityHigh, 0, "jdoe", "", nil))
	c.Flush()
	c.Add(alert("a2", "r", "TA0006", "T1003.006", schema.SeverityHigh, 3*time.Hour, "jdoe", "", nil))
	out := c.Flush()
	if len(out) != 2 || out[0].Status != schema.IncidentClosed || out[1].Status != schema.IncidentOpen || out[0].ID == out[1].ID {
		t.Fatalf("got %+v", out)
	}
	if c.Stats().Closed != 1 || c.Stats().Open != 1 {
		t.Fatalf("stats %+v", c.Stats())
	}
}

func TestBridgingAlertMergesIncidents(t *testing.T) {
	c := New(Options{})
	c.Add(alert("spray", "password-spray", "TA0006", "T1110.003", schema.SeverityHigh, 0, "x", "10.9.9.9", map[string]string{"source.ip": "10.9.9.9"}))
	c.Add(alert("dcsync", "dcsync-non-dc", "TA0006", "T1003.006", schema.SeverityHigh, time.Minute, "bob", "", nil))
	if n := len(c.Flush()); n != 2 {
		t.Fatalf("%d incidents before bridge", n)
	}
	c.Add(alert("roast", "kerberoasting-rc4-burst", "TA0006", "T1558.003", schema.SeverityHigh, 2*time.Minute, "bob", "10.9.9.9", map[string]string{"user.name": "bob"}))
	out := c.Flush()
	if len(out) != 2 || out[0].Status != schema.IncidentMerged || out[0].MergedInto != out[1].ID || len(out[1].Alerts) != 3 {
		t.Fatalf("after bridge: %+v", out)
	}
	if out[1].ID != schema.IncidentID("spray") {
		t.Fatal("merged into the younger incident")
	}
}

func TestMaxOpenEvicts(t *testing.T) {
	c := New(Options{MaxOpen: 2})
	for i, u := range []string{"a", "b", "c"} {
		c.Add(alert(u, "r", "TA0006", "T1003.006", schema.SeverityHigh, time.Duration(i)*time.Second, u, "", nil))
	}
	if s := c.Stats(); s.Open != 2 || s.Evicted != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestSnapshotRestoreContinues(t *testing.T) {
	a := chain()
	straight := New(Options{})
	for _, x := range a {
		straight.Add(x)
	}
	want := straight.Flush()

	first := New(Options{})
	for _, x := range a[:2] {
		first.Add(x)
	}
	first.Flush()
	snap, err := first.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	second := New(Options{})
	if err := second.Restore(snap); err != nil {
		t.Fatal(err)
	}
	for _, x := range a[2:] {
		second.Add(x)
	}
	got := second.Flush()
	if len(got) != 1 || got[0].ID != want[0].ID || len(got[0].Alerts) != len(want[0].Alerts) || got[0].Version != 2 {
		t.Fatalf("restored run: %+v", got)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// The primary identity is the most frequent actor, not whichever user the
// first alert named: here the first alert is about a victim.
func TestPrimaryIsTheMostFrequentActor(t *testing.T) {
	c := New(Options{})
	for _, a := range chain() {
		c.Add(a)
	}
	inc := c.Flush()[0]
	if got := Primary(inc); got != `CORP\jdoe` {
		t.Fatalf("primary %q, want CORP\\jdoe (actor of 3 of 5 alerts)", got)
	}
	if want := `CORP\jdoe: 5 alert(s)`; len(inc.Title) < len(want) || inc.Title[:len(want)] != want {
		t.Fatalf("title %q, want it to start with %q", inc.Title, want)
	}
	// Without actors it falls back to the first entity.
	bare := schema.Incident{Entities: schema.Entities{IPs: []string{"10.0.0.1"}}}
	if got := Primary(bare); got != "10.0.0.1" {
		t.Fatalf("primary of an actorless incident %q", got)
	}
}
