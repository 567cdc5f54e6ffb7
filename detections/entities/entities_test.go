package entities

import (
	"strings"
	"testing"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

func TestEnrich(t *testing.T) {
	s := New(Options{DomainControllers: []string{"DC01", "dc02.corp.example"}, Honeytokens: []string{"CORP\\svc-honey"}})
	cases := []struct {
		user     schema.User
		wantDC   bool
		wantTags int
	}{
		{schema.User{Name: "DC01$", IsMachine: true}, true, 0},
		{schema.User{Name: "dc02$", IsMachine: true}, true, 0},
		{schema.User{Name: "DC03$", IsMachine: true}, false, 0},
		{schema.User{Name: "DC01"}, false, 1}, // a user named like a DC is not the DC: it is tagged dc-lookalike
		{schema.User{Name: "svc-honey"}, false, 1},
	}
	for _, c := range cases {
		ev := schema.Event{User: c.user}
		s.Enrich(&ev)
		if ev.User.IsDC != c.wantDC || len(ev.User.Tags) != c.wantTags {
			t.Errorf("%s: is_dc=%v tags=%v", c.user.Name, ev.User.IsDC, ev.User.Tags)
		}
	}
	ev := schema.Event{Host: schema.Host{Name: "DC02.corp.example"}, User: schema.User{Name: "DC01"}, Target: schema.Target{User: schema.User{Name: "DC01$"}}}
	s.Enrich(&ev)
	if !ev.Host.IsDC || ev.User.IsDC || len(ev.User.Tags) != 1 || ev.User.Tags[0] != TagDCLookalike || !ev.Target.User.IsDC {
		t.Fatalf("enriched %+v", ev)
	}
	if !s.IsDC(`CORP\DC01$`) || s.IsDC("WS01") {
		t.Fatal("IsDC")
	}
}

// TestHasMatchesKey checks the allocation-free lookup against key for the
// forms names take, including ones where lower-casing is not byte-wise.
func TestHasMatchesKey(t *testing.T) {
	long := strings.Repeat("A", 70)
	names := []string{
		"DC01", "dc01", "DC01$", " CORP\\DC01$ ", "dc01.corp.example", "DC01@CORP.EXAMPLE",
		"CORP\\svc-honey", "svc-honey", "SVC-HONEY.", "\u212Aerberos", "kerberos", "İstanbul",
		"istanbul", "caf\u00e9", "CAF\u00c9", long, strings.ToLower(long), "", "$", "\\", "a\xffb", "A\xffB",
	}
	m := set(names)
	other := set([]string{"dc01", "kerberos"})
	for _, n := range names {
		for _, mm := range []map[string]bool{m, other} {
			if got, want := has(mm, n), mm[key(n)]; got != want {
				t.Errorf("has(%q) = %v, key lookup %v", n, got, want)
			}
		}
	}
	if !has(other, "\u212AERBEROS") {
		t.Errorf("Kelvin-sign spelling should fold to kerberos as key does")
	}
}

// DC addresses mark the DC side of network events; names match host names.
func TestEnrichNetworkEndpoints(t *testing.T) {
	s := New(Options{DomainControllers: []string{"DC01", "10.0.0.10", "fd00::10"}})
	ev := schema.Event{Host: schema.Host{IP: "10.0.0.10"}, Source: schema.Endpoint{IP: "10.0.5.66"}, Destination: schema.Endpoint{IP: "10.0.0.10"}}
	s.Enrich(&ev)
	if !ev.Host.IsDC || ev.Source.IsDC || !ev.Destination.IsDC {
		t.Errorf("DCSync-like event: %+v", ev)
	}
	ev = schema.Event{Source: schema.Endpoint{IP: "::ffff:10.0.0.10"}, Destination: schema.Endpoint{IP: "fd00::10"}}
	s.Enrich(&ev)
	if !ev.Source.IsDC || !ev.Destination.IsDC || ev.Host.IsDC {
		t.Errorf("mapped and IPv6 addresses: %+v", ev)
	}
	ev = schema.Event{Source: schema.Endpoint{IP: "10.0.0.11", Hostname: "dc01.corp.example"}, Destination: schema.Endpoint{IP: "not an ip", Hostname: "WS01"}}
	s.Enrich(&ev)
	if !ev.Source.IsDC || ev.Destination.IsDC {
		t.Errorf("host names: %+v", ev)
	}
	if s.IsDC("10") {
		t.Error("an address entry became the name 10")
	}
	if _, ok := schema.Field("source.is_dc"); !ok {
		t.Error("no source.is_dc field")
	}
}
