package netsensor

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/castellan-itdr/castellan/connector/component"
	"github.com/castellan-itdr/castellan/connector/telemetry"
	"github.com/castellan-itdr/castellan/mappings/network/dns"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// dns-queries-axfr.pcap holds 5 queries: SRV (NOERROR) and A (NXDOMAIN)
// over UDP, SRV over TCP (NOERROR), AXFR over TCP and over UDP (NOERROR).
func TestDNSEventSelection(t *testing.T) {
	for _, tc := range []struct {
		events dns.Events
		want   map[string]int // events by dns.question.type/dns.response_code
	}{
		{dns.EventsAll, map[string]int{"SRV/NOERROR": 2, "A/NXDOMAIN": 1, "AXFR/NOERROR": 2}},
		{dns.EventsTransfers, map[string]int{"AXFR/NOERROR": 2}},
		{dns.EventsFailures, map[string]int{"A/NXDOMAIN": 1, "AXFR/NOERROR": 2}},
	} {
		t.Run(tc.events.String(), func(t *testing.T) {
			evs, st := readSampleWith(t, "dns-queries-axfr.pcap", Options{DNSEvents: tc.events})
			got := map[string]int{}
			for _, ev := range evs {
				got[ev.DNS.Question.Type+"/"+ev.DNS.ResponseCode]++
			}
			if len(got) != len(tc.want) {
				t.Errorf("events %v, want %v", got, tc.want)
			}
			for k, n := range tc.want {
				if got[k] != n {
					t.Errorf("%s: %d events, want %d (all: %v)", k, got[k], n, got)
				}
			}
			if st.Dissect.DNSQueries != 5 || st.EventsByKind[schema.KindDNSQuery] != int64(len(evs)) {
				t.Errorf("dns queries %d (want 5), dns events %d (want %d)", st.Dissect.DNSQueries,
					st.EventsByKind[schema.KindDNSQuery], len(evs))
			}
		})
	}
}

// The source defaults to zone transfers only and counts queries and events.
func TestSourceDNSEvents(t *testing.T) {
	for _, tc := range []struct {
		setting string // "" keeps NewDefaultConfig's
		events  int64
	}{{"", 2}, {"transfers", 2}, {"failures", 3}, {"all", 5}} {
		t.Run("events="+tc.setting, func(t *testing.T) {
			cfg := NewDefaultConfig()
			cfg.Paths = []string{samplesDir + "/dns-queries-axfr.pcap"}
			if tc.setting != "" {
				cfg.DNS.Events = tc.setting
			}
			r, counters := newRecorder(), telemetry.New()
			s, err := New(cfg, component.SourceSettings{ID: "netsensor/dns", Next: r, Checkpoints: r, Counters: counters})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Start(context.Background(), nil); err != nil {
				t.Fatal(err)
			}
			waitDone(t, s)
			_ = s.Shutdown(context.Background())
			if int64(len(r.events)) != tc.events {
				t.Errorf("%d events, want %d", len(r.events), tc.events)
			}
			q := counters.Value(telemetry.Key("source_dns_queries", "source", "netsensor/dns"))
			e := counters.Value(telemetry.Key("source_dns_events", "source", "netsensor/dns"))
			if q != 5 || e != tc.events {
				t.Errorf("source_dns_queries %d (want 5), source_dns_events %d (want %d)", q, e, tc.events)
			}
		})
	}
}

func TestDNSEventsConfig(t *testing.T) {
	if got := NewDefaultConfig().DNS.Events; got != "transfers" {
		t.Errorf("default dns.events %q", got)
	}
	cfg := NewDefaultConfig()
	cfg.Paths = []string{"x.pcap"}
	cfg.DNS.Events = "everything"
	err := cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), `dns.events: "everything" is not one of transfers, failures, all`) {
		t.Errorf("error %v", err)
	}
	cfg.DNS.Events = ""
	if err := cfg.Validate(); err != nil {
		t.Errorf("empty dns.events (default): %v", err)
	}
}

// Live capture reports its counters every second: each report adds only
// what was counted since the previous one.
func TestReportSince(t *testing.T) {
	counters := telemetry.New()
	s := newSource(NewDefaultConfig(), component.SourceSettings{ID: "netsensor/live", Counters: counters, Logger: slog.New(slog.DiscardHandler)})
	st := Stats{Packets: 10, EventsByKind: map[schema.EventKind]int64{schema.KindDNSQuery: 1}}
	st.Dissect.DNSQueries = 4
	var last reported
	s.reportSince(&st, &last)
	st.Packets, st.Dissect.DNSQueries, st.EventsByKind[schema.KindDNSQuery] = 25, 9, 3
	s.reportSince(&st, &last)
	s.reportSince(&st, &last) // nothing new
	for name, want := range map[string]int64{"source_packets": 25, "source_dns_queries": 9, "source_dns_events": 3} {
		if got := counters.Value(telemetry.Key(name, "source", "netsensor/live")); got != want {
			t.Errorf("%s %d, want %d", name, got, want)
		}
	}
}
