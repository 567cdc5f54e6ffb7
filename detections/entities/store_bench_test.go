package entities

import (
	"testing"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// benchEvents are the events Store.Enrich sees most: a DC's 4769 (a
// DC-only event: learning's known-host path), a workstation logon and a
// directory access by a DC machine account.
func benchEvents() []schema.Event {
	return []schema.Event{
		{Event: schema.EventMeta{Kind: schema.KindKerberosServiceTicket, Code: "4769", Provider: "Microsoft-Windows-Security-Auditing"},
			Host: schema.Host{Name: "DC01.corp.example"}, User: schema.User{Name: "alice"}, Target: schema.Target{Service: "CIFS/fs01"}},
		{Event: schema.EventMeta{Kind: "logon", Code: "4624", Provider: "Microsoft-Windows-Security-Auditing"},
			Host: schema.Host{Name: "WS01.corp.example"}, User: schema.User{Name: "bob"}, Target: schema.Target{User: schema.User{Name: "bob"}}},
		{Event: schema.EventMeta{Kind: schema.KindDirectoryChange, Code: "4662", Provider: "Microsoft-Windows-Security-Auditing"},
			Host: schema.Host{Name: "DC02.corp.example"}, User: schema.User{Name: "DC02$", IsMachine: true},
			Original: map[string]string{"ObjectServer": "DS"}},
	}
}

// BenchmarkStoreEnrich is the per-event cost of Store.Enrich with a
// configured DC list.
func BenchmarkStoreEnrich(b *testing.B) {
	s := New(Options{DomainControllers: []string{"DC01", "DC02"}, Honeytokens: []string{"svc-honey"}})
	evs := benchEvents()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev := evs[i%len(evs)]
		s.Enrich(&ev)
	}
}

// BenchmarkStoreEnrichLearn is the same with DC learning on, over the same
// events: DC01 and DC02 are configured for "configured", learned from their
// events for "learned"; a cold run learns each DC once.
func BenchmarkStoreEnrichLearn(b *testing.B) {
	for _, c := range []struct {
		name string
		dcs  []string
	}{{"configured", []string{"DC01", "DC02"}}, {"learned", nil}} {
		b.Run(c.name, func(b *testing.B) {
			s := New(Options{DomainControllers: c.dcs, Honeytokens: []string{"svc-honey"}, LearnDCs: true})
			evs := benchEvents()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				ev := evs[i%len(evs)]
				s.Enrich(&ev)
			}
			if want := 2 - len(c.dcs); b.N >= len(evs) && len(s.LearnedDCs()) != want {
				b.Fatalf("learned %v, want %d DCs", s.LearnedDCs(), want)
			}
		})
	}
}
