package entities

import (
	"fmt"
	"testing"

	"github.com/castellan-itdr/castellan/mappings/entra"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// dirEvent is a directory_identity event as the entra source's users poll
// emits it.
func dirEvent(obj, upn, sid, sam string) schema.Event {
	return schema.Event{Event: schema.EventMeta{Kind: schema.KindDirectoryIdentity, Dataset: entra.Dataset},
		User: schema.User{ID: obj, UPN: upn, Name: sam, Domain: "corp.example"}, Cloud: schema.Cloud{OnPremSID: sid}}
}

func signin(obj, upn string) schema.Event {
	return schema.Event{Event: schema.EventMeta{Kind: schema.KindCloudSignin, Dataset: entra.Dataset},
		User: schema.User{ID: obj, UPN: upn, Name: upn, Domain: "corp.example"}}
}

// A directory_identity event links a cloud identity that no on-prem event
// named; the NetBIOS domain comes from the SID's on-prem events.
func TestIdentitiesLearnFromDirectoryEvents(t *testing.T) {
	x := NewIdentities(IdentityOptions{Learn: true})
	before := signin("obj-crm", "crm-sync@corp.example")
	x.Enrich(&before)
	if before.User.Name != "crm-sync@corp.example" {
		t.Fatalf("joined with nothing learned: %+v", before.User)
	}
	onprem := schema.Event{Event: schema.EventMeta{Kind: schema.KindLogon, Dataset: "winjson"},
		User: schema.User{Name: "svc-crm", Domain: "CORP", ID: "S-1-5-21-7-7-7-1105"}}
	x.Enrich(&onprem)
	d := dirEvent("obj-crm", "crm-sync@corp.example", "S-1-5-21-7-7-7-1105", "svc-crm")
	x.Enrich(&d)
	if d.User.Name != "svc-crm" || d.User.ID != "obj-crm" {
		t.Errorf("directory_identity event changed: %+v", d.User)
	}
	d2 := d
	x.Enrich(&d2) // unchanged: not counted again
	// Cloud-only users (no SID) teach nothing.
	co := dirEvent("obj-co", "cloud.only@corp.example", "", "")
	x.Enrich(&co)
	for _, ev := range []schema.Event{signin("obj-crm", ""), signin("", "CRM-SYNC@corp.example")} {
		x.Enrich(&ev)
		if ev.User.Name != "svc-crm" || ev.User.ID != "S-1-5-21-7-7-7-1105" || ev.User.Domain != "CORP" {
			t.Errorf("not joined: %+v", ev.User)
		}
	}
	if st := x.Stats(); st.Directory != 1 || st.Held != 1 || st.Evicted != 0 {
		t.Errorf("stats %+v", st)
	}
	// A directory event before any on-prem event: the join works at once,
	// and the domain arrives with the SID's first on-prem event.
	early := dirEvent("obj-early", "early.bird@corp.example", "S-1-5-21-7-7-7-1200", "ebird")
	x.Enrich(&early)
	e1 := signin("obj-early", "")
	x.Enrich(&e1)
	if e1.User.Name != "ebird" || e1.User.Domain != "corp.example" {
		t.Errorf("early join: %+v", e1.User)
	}
	op := schema.Event{Event: schema.EventMeta{Kind: schema.KindLogon, Dataset: "winjson"},
		User: schema.User{Name: "ebird", Domain: "CORP", ID: "S-1-5-21-7-7-7-1200"}}
	x.Enrich(&op)
	e2 := signin("obj-early", "")
	x.Enrich(&e2)
	if e2.User.Name != "ebird" || e2.User.Domain != "CORP" {
		t.Errorf("domain not learned: %+v", e2.User)
	}
	// A changed UPN replaces the old one.
	d3 := dirEvent("obj-crm", "crm@corp.example", "S-1-5-21-7-7-7-1105", "svc-crm")
	x.Enrich(&d3)
	old := signin("", "crm-sync@corp.example")
	x.Enrich(&old)
	if old.User.Name == "svc-crm" {
		t.Error("the old UPN still joins")
	}
}

// The held identities are capped: the oldest is evicted and counted, and
// no longer joins.
func TestIdentitiesDirectoryBounded(t *testing.T) {
	x := NewIdentities(IdentityOptions{Learn: true, MaxDirectory: 2})
	for i := range 3 {
		ev := dirEvent(fmt.Sprintf("obj-%d", i), fmt.Sprintf("p%d@corp.example", i), fmt.Sprintf("S-1-5-21-7-7-7-%d", 1100+i), fmt.Sprintf("u%d", i))
		x.Enrich(&ev)
	}
	if st := x.Stats(); st.Held != 2 || st.Evicted != 1 || st.Directory != 3 {
		t.Errorf("stats %+v", st)
	}
	first, last := signin("obj-0", "p0@corp.example"), signin("obj-2", "p2@corp.example")
	x.Enrich(&first)
	x.Enrich(&last)
	if first.User.Name == "u0" || last.User.Name != "u2" {
		t.Errorf("eviction: first %q last %q", first.User.Name, last.User.Name)
	}
}

// Learned SIDs and held identities survive Snapshot and Restore; the
// restored join is bounded like a learning one.
func TestIdentitiesSnapshotRestore(t *testing.T) {
	x := NewIdentities(IdentityOptions{Learn: true})
	onprem := schema.Event{Event: schema.EventMeta{Kind: schema.KindLogon, Dataset: "winjson"},
		User: schema.User{Name: "svc-crm", Domain: "CORP", ID: "S-1-5-21-7-7-7-1105"}}
	x.Enrich(&onprem)
	for i := range 3 {
		ev := dirEvent(fmt.Sprintf("obj-%d", i), fmt.Sprintf("p%d@corp.example", i), fmt.Sprintf("S-1-5-21-7-7-7-%d", 1100+i), fmt.Sprintf("u%d", i))
		x.Enrich(&ev)
	}
	snap, err := x.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	y := NewIdentities(IdentityOptions{Learn: true})
	if err := y.Restore(snap); err != nil {
		t.Fatal(err)
	}
	ev := signin("obj-1", "")
	y.Enrich(&ev)
	if ev.User.Name != "u1" || ev.User.ID != "S-1-5-21-7-7-7-1101" {
		t.Errorf("restored join: %+v", ev.User)
	}
	if st := y.Stats(); st.Known != 1 || st.Held != 3 {
		t.Errorf("restored stats %+v", st)
	}
	small := NewIdentities(IdentityOptions{Learn: true, MaxDirectory: 2})
	if err := small.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if st := small.Stats(); st.Held != 2 || st.Evicted != 1 {
		t.Errorf("bounded restore %+v", st)
	}
	for _, bad := range []string{`{`, `{"held":[{"upn":"x@y"}]}`} {
		if err := NewIdentities(IdentityOptions{}).Restore([]byte(bad)); err == nil {
			t.Errorf("%s restored", bad)
		}
	}
}

// BenchmarkIdentitiesDirectoryEvent is the per-event cost of a
// directory_identity event already learned (every users round re-sends
// every user).
func BenchmarkIdentitiesDirectoryEvent(b *testing.B) {
	x := NewIdentities(IdentityOptions{Learn: true})
	d := dirEvent("obj-crm", "crm-sync@corp.example", "S-1-5-21-7-7-7-1105", "svc-crm")
	x.Enrich(&d)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		ev := d
		x.Enrich(&ev)
	}
}
