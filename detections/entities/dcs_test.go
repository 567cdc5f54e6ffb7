package entities

import (
	"reflect"
	"testing"

	"github.com/castellan-itdr/castellan/mappings/samba"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

func secEvent(code, host string) schema.Event {
	return schema.Event{Event: schema.EventMeta{Code: code, Provider: providerSecurity, Channel: "Security", Dataset: "evtx"},
		Host: schema.Host{Name: host}}
}

func TestIsDCOnlyEvent(t *testing.T) {
	ds := secEvent("4662", "h")
	ds.Original = map[string]string{"ObjectServer": "DS"}
	sam := secEvent("4661", "h")
	sam.Original = map[string]string{"ObjectServer": "Security Account Manager"}
	net := schema.Event{Event: schema.EventMeta{Kind: schema.KindKerberosTGT, Code: "4768", Dataset: "netsensor", Provider: "castellan-netsensor"}}
	kdc := schema.Event{Event: schema.EventMeta{Kind: schema.KindKerberosTGT, Code: "4768", Dataset: samba.Dataset, Provider: samba.Provider, Channel: samba.TypeAuthentication}}
	sambaLogon := schema.Event{Event: schema.EventMeta{Kind: schema.KindLogon, Code: "4624", Dataset: samba.Dataset, Provider: samba.Provider, Channel: samba.TypeAuthentication}}
	dsdb := schema.Event{Event: schema.EventMeta{Kind: schema.KindDirectoryChange, Dataset: samba.Dataset, Provider: samba.Provider, Channel: samba.TypeDSDBChange}}
	cases := []struct {
		name string
		ev   schema.Event
		want bool
	}{
		{"4768", secEvent("4768", "h"), true},
		{"4769", secEvent("4769", "h"), true},
		{"4771", secEvent("4771", "h"), true},
		{"4741", secEvent("4741", "h"), true},
		{"4742", secEvent("4742", "h"), true},
		{"5136", secEvent("5136", "h"), true},
		{"4662 DS", ds, true},
		{"4661 SAM", sam, false},
		{"4662 without ObjectServer", secEvent("4662", "h"), false},
		{"4624", secEvent("4624", "h"), false},
		{"4776 (member servers validate local accounts too)", secEvent("4776", "h"), false},
		{"4720 (also local accounts)", secEvent("4720", "h"), false},
		{"network sensor TGT", net, false},
		{"samba KDC", kdc, true},
		{"samba logon", sambaLogon, false},
		{"samba dsdbChange", dsdb, true},
	}
	for _, c := range cases {
		if got := IsDCOnlyEvent(&c.ev); got != c.want {
			t.Errorf("%s: IsDCOnlyEvent = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestLearnDCFromFirstEvent checks that the event that teaches a DC is
// itself enriched with it: a single DC's log starts with a DC-only event,
// so a TGT for an account named like that DC (noPac) is tagged at once.
func TestLearnDCFromFirstEvent(t *testing.T) {
	s := New(Options{LearnDCs: true})
	ev := secEvent("4768", "RootDC7.corp.example")
	ev.User = schema.User{Name: "rootdc7", Domain: "CORP"}
	s.Enrich(&ev)
	if !ev.Host.IsDC || !reflect.DeepEqual(ev.User.Tags, []string{TagDCLookalike}) {
		t.Fatalf("first TGT: host.is_dc=%v user.tags=%v", ev.Host.IsDC, ev.User.Tags)
	}
	if !s.IsDC(`CORP\ROOTDC7$`) || s.DCStats() != (DCStats{Learned: 1, Held: 1}) {
		t.Fatalf("IsDC=%v stats=%+v", s.IsDC(`CORP\ROOTDC7$`), s.DCStats())
	}
	// A later event on another host naming the DC's machine account.
	logon := secEvent("4624", "WS01.corp.example")
	logon.Target.User = schema.User{Name: "ROOTDC7$", IsMachine: true}
	s.Enrich(&logon)
	if logon.Host.IsDC || !logon.Target.User.IsDC {
		t.Fatalf("logon: host.is_dc=%v target.user.is_dc=%v", logon.Host.IsDC, logon.Target.User.IsDC)
	}
	if s.IsDC("WS01") || s.DCStats().Learned != 1 {
		t.Fatalf("a workstation logon taught a DC: %+v", s.DCStats())
	}
	// Without LearnDCs nothing is learned.
	ro := New(Options{})
	ev2 := secEvent("4768", "RootDC7.corp.example")
	ev2.User = schema.User{Name: "rootdc7"}
	ro.Enrich(&ev2)
	if ev2.Host.IsDC || len(ev2.User.Tags) != 0 || ro.IsDC("rootdc7") || ro.DCStats() != (DCStats{}) {
		t.Fatalf("learned without LearnDCs: %+v %+v", ev2, ro.DCStats())
	}
}

func TestLearnDCsBounded(t *testing.T) {
	s := New(Options{DomainControllers: []string{"DC01"}, LearnDCs: true, MaxLearnedDCs: 2})
	for _, h := range []string{"dc01.corp", "dc02.corp", "DC03", "dc02", "dc04.corp", "", "-"} {
		ev := secEvent("4769", h)
		s.Enrich(&ev)
	}
	// dc01 is configured (never learned, never evicted); dc02 was learned
	// first and is evicted by dc04.
	if got := s.LearnedDCs(); !reflect.DeepEqual(got, []string{"dc03", "dc04"}) {
		t.Fatalf("learned %v", got)
	}
	if st := s.DCStats(); st != (DCStats{Learned: 3, Evicted: 1, Held: 2}) {
		t.Fatalf("stats %+v", st)
	}
	if !s.IsDC("DC01") || s.IsDC("DC02") || !s.IsDC("dc03$") {
		t.Fatal("IsDC after eviction")
	}
}

func TestDCSnapshotRestore(t *testing.T) {
	s := New(Options{LearnDCs: true})
	for _, h := range []string{"DC11.corp", "DC12.corp"} {
		ev := secEvent("4768", h)
		s.Enrich(&ev)
	}
	data, err := s.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	// Restored within the new bound, configured DCs not held twice.
	r := New(Options{DomainControllers: []string{"dc11"}, LearnDCs: true, MaxLearnedDCs: 5})
	if err := r.Restore(data); err != nil {
		t.Fatal(err)
	}
	if got := r.LearnedDCs(); !reflect.DeepEqual(got, []string{"dc12"}) || !r.IsDC("DC11") || !r.IsDC("dc12.corp") {
		t.Fatalf("restored %v", got)
	}
	if st := r.DCStats(); st.Learned != 0 || st.Held != 1 {
		t.Fatalf("restoring counted as learning: %+v", st)
	}
	// A store that does not learn ignores the snapshot.
	ro := New(Options{})
	if err := ro.Restore(data); err != nil || ro.IsDC("dc12") {
		t.Fatalf("read-only restore: %v, IsDC=%v", err, ro.IsDC("dc12"))
	}
	for _, bad := range []string{`{"dcs":["DC12.corp"]}`, `{"dcs":[""]}`, `{"dcs":"x"}`, `[`} {
		if err := New(Options{LearnDCs: true}).Restore([]byte(bad)); err == nil {
			t.Errorf("Restore(%s) accepted", bad)
		}
	}
	empty, err := New(Options{LearnDCs: true}).Snapshot()
	if err != nil || string(empty) != "{}" {
		t.Fatalf("empty snapshot %s, %v", empty, err)
	}
}

// TestLearnDCNoAllocKnown checks the per-event path stays allocation-free
// once the DC is known.
func TestLearnDCNoAllocKnown(t *testing.T) {
	s := New(Options{LearnDCs: true})
	evs := benchEvents()
	for i := range evs {
		ev := evs[i]
		s.Enrich(&ev)
	}
	if n := testing.AllocsPerRun(100, func() {
		for i := range evs {
			ev := evs[i]
			ev.User.Tags, ev.Target.User.Tags = nil, nil
			s.Enrich(&ev)
		}
	}); n != 0 {
		t.Fatalf("%v allocations per run", n)
	}
}
