package engine

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

const travelRule = `id: test-rule
title: Impossible travel
status: test
severity: medium
mitre: { tactic: TA0001, technique: T1078.004 }
description: two sign-ins too far apart for the time between them
kind: travel
where: { event.kind: cloud_signin, event.outcome: success }
group_by: [user.name]
max_speed: 900
min_distance: 500
window: 24h
`

// Places used by the travel tests (decimal degrees).
var (
	seattle = [2]float64{47.61, -122.33}
	boston  = [2]float64{42.36, -71.06}
	moscow  = [2]float64{55.76, 37.62}
	tacoma  = [2]float64{47.25, -122.44}
)

func signin(user, ip string, at time.Duration, loc [2]float64, city string) *schema.Event {
	return &schema.Event{
		ID:        fmt.Sprintf("s-%s-%s-%d", user, city, at),
		Timestamp: t0.Add(at),
		Event:     schema.EventMeta{Kind: schema.KindCloudSignin, Outcome: "success", Dataset: "entra"},
		User:      schema.User{Name: user, UPN: user + "@corp.example"},
		Source:    schema.Endpoint{IP: ip},
		Cloud:     schema.Cloud{City: city, Country: "XX", Latitude: loc[0], Longitude: loc[1]},
	}
}

func TestHaversine(t *testing.T) {
	// Seattle–Moscow great circle is about 8,390 km; Seattle–Boston 4,000 km.
	for _, c := range []struct {
		a, b     [2]float64
		lo, high float64
	}{{seattle, moscow, 8300, 8450}, {seattle, boston, 3950, 4050}, {seattle, seattle, 0, 0.001}} {
		if d := Haversine(c.a[0], c.a[1], c.b[0], c.b[1]); d < c.lo || d > c.high {
			t.Errorf("%v → %v = %.1f km, want %.0f–%.0f", c.a, c.b, d, c.lo, c.high)
		}
	}
}

func TestTravelFiresOnImpossibleSpeedOnly(t *testing.T) {
	e := engineOf(t, Options{}, mustParse(t, travelRule))
	var got []schema.Alert
	got = append(got, collect(e,
		signin("jdoe", "131.107.1.1", 0, seattle, "Seattle"),
		signin("jdoe", "131.107.1.2", 2*time.Hour, tacoma, "Tacoma"),      // 40 km: below min_distance
		signin("jdoe", "203.0.113.9", 9*time.Hour, boston, "Boston"),      // 4,000 km in 7 h: 570 km/h, a flight
		signin("asmith", "131.107.1.3", 9*time.Hour, seattle, "Seattle"),  // another user
		signin("asmith", "131.107.1.3", 10*time.Hour, seattle, "Seattle"), // same place
	)...)
	if len(got) != 0 {
		t.Fatalf("benign travel fired: %+v", got)
	}
	far := signin("jdoe", "198.51.100.7", 10*time.Hour, moscow, "Moscow") // 7,300 km in 1 h
	got = collect(e, far)
	if len(got) != 1 {
		t.Fatalf("alerts = %d, want 1", len(got))
	}
	a := got[0]
	prev := "s-jdoe-Boston-" + fmt.Sprint(int64(9*time.Hour))
	if a.Count != 2 || a.EventIDs[0] != prev || a.EventIDs[1] != far.ID || a.Rule.Kind != KindTravel ||
		a.GroupKey["user.name"] != "jdoe" || !a.FirstSeen.Equal(t0.Add(9*time.Hour)) || !a.LastSeen.Equal(far.Timestamp) ||
		a.ID != schema.AlertID("test-rule", "jdoe", prev) {
		t.Errorf("alert = %+v", a)
	}
	if !strings.HasPrefix(a.Message, "Impossible travel: user jdoe, ") || !strings.Contains(a.Message, " km from Boston, XX (203.0.113.9) to Moscow, XX (198.51.100.7) in 1h0m0s (") {
		t.Errorf("message = %q", a.Message)
	}
	// Suppressed for the window: bouncing back does not fire again.
	if again := collect(e, signin("jdoe", "203.0.113.9", 11*time.Hour, boston, "Boston")); len(again) != 0 {
		t.Errorf("fired again inside the suppression: %+v", again)
	}
	// After the window it re-arms.
	if later := collect(e, signin("jdoe", "198.51.100.7", 36*time.Hour, moscow, "Moscow"),
		signin("jdoe", "131.107.1.1", 37*time.Hour, seattle, "Seattle")); len(later) != 1 {
		t.Errorf("after the window: %d alerts, want 1", len(later))
	}
	st := e.Stats().Rules[0]
	if st.Alerts != 2 || st.Keys != 1 { // asmith, idle for more than the window, was swept
		t.Errorf("stats = %+v", st)
	}
}

func TestTravelSkipsUnlocatedFailedAndExcluded(t *testing.T) {
	e := engineOf(t, Options{Tuning: Tuning{Rules: map[string]RuleTuning{
		"test-rule": {ExcludeIPs: []string{"198.51.100.0/24"}}, // the corporate VPN egress
	}}}, mustParse(t, travelRule))
	noGeo := signin("jdoe", "192.0.2.1", time.Hour, [2]float64{}, "")
	failed := signin("jdoe", "192.0.2.2", time.Hour, moscow, "Moscow")
	failed.Event.Outcome = "failure"
	vpn := signin("jdoe", "198.51.100.7", time.Hour, moscow, "Moscow")
	got := collect(e, signin("jdoe", "131.107.1.1", 0, seattle, "Seattle"), noGeo, failed, vpn)
	if len(got) != 0 {
		t.Fatalf("fired: %+v", got)
	}
	st := e.Stats().Rules[0]
	if st.SkippedEmptyValue != 1 || st.Excluded != 1 || st.Matched != 2 {
		t.Errorf("stats = %+v", st)
	}
	// Beyond the window nothing is compared.
	if got := collect(e, signin("jdoe", "192.0.2.3", 30*time.Hour, moscow, "Moscow")); len(got) != 0 {
		t.Errorf("compared across more than the window: %+v", got)
	}
}

// An out-of-order older event is compared with the held one, and the alert
// still names the earlier place first.
func TestTravelOutOfOrder(t *testing.T) {
	e := engineOf(t, Options{}, mustParse(t, travelRule))
	got := collect(e, signin("jdoe", "198.51.100.7", time.Hour, moscow, "Moscow"), signin("jdoe", "131.107.1.1", 0, seattle, "Seattle"))
	if len(got) != 1 || got[0].Values[0] != "Seattle, XX (131.107.1.1)" || got[0].EventIDs[0] != "s-jdoe-Seattle-0" {
		t.Fatalf("alerts = %+v", got)
	}
}

func TestTravelSnapshotRestore(t *testing.T) {
	r := mustParse(t, travelRule)
	e := engineOf(t, Options{}, r)
	collect(e, signin("jdoe", "203.0.113.9", 0, boston, "Boston"))
	snap, err := e.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	e2 := engineOf(t, Options{}, r)
	if err := e2.Restore(snap); err != nil {
		t.Fatal(err)
	}
	got := collect(e2, signin("jdoe", "198.51.100.7", time.Hour, moscow, "Moscow"))
	if len(got) != 1 || got[0].Values[0] != "Boston, XX (203.0.113.9)" {
		t.Fatalf("after restore: %+v", got)
	}
}

func TestTravelRuleErrors(t *testing.T) {
	for _, c := range []struct{ edit, want string }{
		{"max_speed: 900\n", "max_speed: required"},
		{"group_by: [user.name]\n", "group_by: required"},
		{"window: 24h\n", "window: required"},
		{"min_distance: 500\n", "min_distance: 500\nthreshold: 3\n"},
	} {
		src := strings.Replace(travelRule, c.edit, "", 1)
		if c.edit == "min_distance: 500\n" {
			src = strings.Replace(travelRule, c.edit, c.want, 1)
			c.want = "threshold: not allowed for kind travel"
		}
		if _, err := ParseRule([]byte(src), ""); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("without %q: err %v, want %q", c.edit, err, c.want)
		}
	}
	if math.IsNaN(Haversine(90, 0, -90, 180)) {
		t.Error("antipodes NaN")
	}
}

func BenchmarkTravel(b *testing.B) {
	r, err := ParseRule([]byte(travelRule), "")
	if err != nil {
		b.Fatal(err)
	}
	e, _ := New([]*Rule{r}, Options{})
	evs := make([]*schema.Event, 1024)
	for i := range evs {
		evs[i] = signin(fmt.Sprintf("u%d", i%256), "131.107.1.1", time.Duration(i)*time.Minute, seattle, "Seattle")
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.Process(evs[i%len(evs)], func(schema.Alert) {})
	}
}
