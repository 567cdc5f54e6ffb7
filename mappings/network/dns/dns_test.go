package dns

import (
	"encoding/binary"
	"net"
	"net/netip"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/castellan-itdr/castellan/mappings/network"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

var ts = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

func newHandler(t network.Transport, evs *[]schema.Event) (network.Handler, *network.Conv) {
	flow := network.Flow{Transport: t, Client: netip.MustParseAddrPort("10.0.0.9:53001"),
		Server: netip.MustParseAddrPort("10.0.0.1:53")}
	c := network.NewConv(flow, network.NewEnv(func(e schema.Event) { *evs = append(*evs, e) }, nil, 1<<20))
	return New().NewHandler(c), c
}

// encode serializes a DNS message with gopacket (an encoder independent of
// the parser under test).
func encode(t testing.TB, d *layers.DNS) []byte {
	buf := gopacket.NewSerializeBuffer()
	if err := d.SerializeTo(buf, gopacket.SerializeOptions{FixLengths: true}); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

func question(name string, qt layers.DNSType) []layers.DNSQuestion {
	return []layers.DNSQuestion{{Name: []byte(name), Type: qt, Class: layers.DNSClassIN}}
}

func soa(zone string) layers.DNSResourceRecord {
	return layers.DNSResourceRecord{Name: []byte(zone), Type: layers.DNSTypeSOA, Class: layers.DNSClassIN, TTL: 3600,
		SOA: layers.DNSSOA{MName: []byte("dc1." + zone), RName: []byte("hostmaster." + zone), Serial: 7,
			Refresh: 900, Retry: 600, Expire: 86400, Minimum: 3600}}
}

func a(name string, ip string) layers.DNSResourceRecord {
	return layers.DNSResourceRecord{Name: []byte(name), Type: layers.DNSTypeA, Class: layers.DNSClassIN, TTL: 900,
		IP: net.ParseIP(ip).To4()}
}

func tcp(b []byte) []byte { return append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...) }

func TestUDPQueries(t *testing.T) {
	var evs []schema.Event
	h, conv := newHandler(network.UDP, &evs)
	h.Data(network.ToServer, ts, encode(t, &layers.DNS{ID: 1, RD: true, QDCount: 1,
		Questions: question("_ldap._tcp.dc._msdcs.LAB.TEST", layers.DNSTypeSRV)}))
	h.Data(network.ToServer, ts, encode(t, &layers.DNS{ID: 2, RD: true, Questions: question("nosuch.lab.test", layers.DNSTypeA)}))
	h.Data(network.ToServer, ts, encode(t, &layers.DNS{ID: 3, Questions: question("lab.test", layers.DNSType(252))}))
	h.Data(network.ToClient, ts, encode(t, &layers.DNS{ID: 2, QR: true, ResponseCode: layers.DNSResponseCodeNXDomain,
		Questions: question("nosuch.lab.test", layers.DNSTypeA)}))
	h.Data(network.ToClient, ts, encode(t, &layers.DNS{ID: 1, QR: true, AA: true,
		Questions: question("_ldap._tcp.dc._msdcs.LAB.TEST", layers.DNSTypeSRV),
		Answers: []layers.DNSResourceRecord{{Name: []byte("_ldap._tcp.dc._msdcs.lab.test"), Type: layers.DNSTypeSRV,
			Class: layers.DNSClassIN, TTL: 600, SRV: layers.DNSSRV{Priority: 0, Weight: 100, Port: 389, Name: []byte("dc1.lab.test")}}}}))
	// Over UDP a refused AXFR is one message.
	h.Data(network.ToClient, ts, encode(t, &layers.DNS{ID: 3, QR: true, ResponseCode: layers.DNSResponseCodeRefused,
		Questions: question("lab.test", layers.DNSType(252))}))
	h.Data(network.ToServer, ts, encode(t, &layers.DNS{ID: 4, Questions: question("lost.lab.test", layers.DNSTypeAAAA)}))
	h.Close(ts)
	if conv.Env.Counters.Malformed != 0 || len(evs) != 4 {
		t.Fatalf("malformed %d, %d events", conv.Env.Counters.Malformed, len(evs))
	}
	chk := func(e schema.Event, name, qt, rcode, outcome, action string, answers int) {
		t.Helper()
		if e.Event.Kind != schema.KindDNSQuery || e.DNS.Question.Name != name || e.DNS.Question.Type != qt ||
			e.DNS.ResponseCode != rcode || e.Event.Outcome != outcome || e.Event.Action != action || e.DNS.AnswersCount != answers {
			t.Errorf("got %+v %+v", e.DNS, e.Event)
		}
	}
	chk(evs[0], "nosuch.lab.test", "A", "NXDOMAIN", "failure", "dns-query", 0)
	chk(evs[1], "_ldap._tcp.dc._msdcs.lab.test", "SRV", "NOERROR", "success", "dns-query", 1)
	chk(evs[2], "lab.test", "AXFR", "REFUSED", "failure", "zone-transfer", 0)
	chk(evs[3], "lost.lab.test", "AAAA", "", "unknown", "dns-query", 0)
	if !evs[2].DNS.ZoneTransfer || evs[0].DNS.ZoneTransfer {
		t.Error("zone_transfer flag")
	}
}

// An AXFR over TCP: three messages, the question only in the first, the
// zone's SOA first and last: one event once the closing SOA arrives.
func TestTCPZoneTransfer(t *testing.T) {
	var evs []schema.Event
	h, conv := newHandler(network.TCP, &evs)
	req := tcp(encode(t, &layers.DNS{ID: 9, Questions: question("lab.test", layers.DNSType(252))}))
	h.Data(network.ToServer, ts, req[:5]) // split across segments
	h.Data(network.ToServer, ts, req[5:])
	m1 := tcp(encode(t, &layers.DNS{ID: 9, QR: true, AA: true, Questions: question("lab.test", layers.DNSType(252)),
		Answers: []layers.DNSResourceRecord{soa("lab.test"), a("dc1.lab.test", "10.0.0.1")}}))
	m2 := tcp(encode(t, &layers.DNS{ID: 9, QR: true, AA: true,
		Answers: []layers.DNSResourceRecord{a("ws1.lab.test", "10.0.0.20"), a("ws2.lab.test", "10.0.0.21")}}))
	m3 := tcp(encode(t, &layers.DNS{ID: 9, QR: true, AA: true, Answers: []layers.DNSResourceRecord{soa("lab.test")}}))
	h.Data(network.ToClient, ts, append(m1, m2[:7]...))
	if len(evs) != 0 {
		t.Fatal("emitted before the transfer ended")
	}
	h.Data(network.ToClient, ts, append(m2[7:], m3...))
	if len(evs) != 1 {
		t.Fatalf("%d events after the closing SOA", len(evs))
	}
	e := evs[0]
	if !e.DNS.ZoneTransfer || e.DNS.Question.Type != "AXFR" || e.DNS.AnswersCount != 5 || e.Event.Outcome != "success" ||
		e.DNS.ResponseCode != "NOERROR" || e.Original["Transport"] != "tcp" {
		t.Errorf("%+v %+v %v", e.DNS, e.Event, e.Original)
	}
	// IXFR left open is emitted at close with what was seen.
	h.Data(network.ToServer, ts, tcp(encode(t, &layers.DNS{ID: 10, Questions: question("lab.test", layers.DNSType(251))})))
	h.Data(network.ToClient, ts, tcp(encode(t, &layers.DNS{ID: 10, QR: true, Questions: question("lab.test", layers.DNSType(251)),
		Answers: []layers.DNSResourceRecord{soa("lab.test"), soa("lab.test"), a("x.lab.test", "10.0.0.5")}})))
	h.Close(ts)
	if len(evs) != 2 || evs[1].DNS.Question.Type != "IXFR" || evs[1].DNS.AnswersCount != 3 || conv.Env.Counters.Malformed != 0 {
		t.Errorf("IXFR: %+v", evs)
	}
}

func TestNames(t *testing.T) {
	hdr := []byte{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}
	for _, c := range []struct {
		name string
		q    []byte
		want string
		ok   bool
	}{
		{"plain", []byte("\x03WWW\x03Lab\x04test\x00\x00\x01\x00\x01"), "www.lab.test", true},
		{"root", []byte("\x00\x00\x02\x00\x01"), ".", true},
		{"self pointer", []byte("\xc0\x0c\x00\x01\x00\x01"), "", false},
		{"forward pointer", []byte("\xc0\x20\x00\x01\x00\x01"), "", false},
		{"label past end", []byte("\x3fabc"), "", false},
		{"extended label", []byte("\x41abc\x00\x00\x01\x00\x01"), "", false},
		{"control bytes", []byte("\x03a\x00b\x00\x00\x01\x00\x01"), "a?b", true},
	} {
		m, err := Parse(append(append([]byte(nil), hdr...), c.q...))
		if (err == nil) != c.ok || m.QName != c.want {
			t.Errorf("%s: %q %v", c.name, m.QName, err)
		}
	}
	// A backwards pointer chain (compression within the question section).
	b := append(append([]byte(nil), hdr...), []byte("\x03lab\x04test\x00")...)
	b[5] = 2
	b = append(b, 0, 1, 0, 1)
	b = append(b, []byte("\x02dc\xc0\x0c\x00\x01\x00\x01")...)
	if _, err := Parse(b); err != nil {
		t.Errorf("compressed second question: %v", err)
	}
	// 200 pointers each to the previous: stopped by maxPointers.
	b = append([]byte(nil), hdr...)
	b = append(b, 0)
	for i := 0; i < 200; i++ {
		p := len(b) - 1
		if i > 0 {
			p = len(b) - 2
		}
		b = append(b, 0xc0|byte(p>>8), byte(p))
	}
	if _, _, err := readName(b, len(b)-2, true, true); err == nil {
		t.Error("long pointer chain accepted")
	}
	if TypeName(252) != "AXFR" || TypeName(65000) != "TYPE65000" || RCodeName(5) != "REFUSED" || RCodeName(12) != "RCODE12" {
		t.Error("names")
	}
}

// Responses whose query was not seen still make an event; garbage is
// counted.
func TestResponseOnlyAndGarbage(t *testing.T) {
	var evs []schema.Event
	h, conv := newHandler(network.UDP, &evs)
	h.Data(network.ToClient, ts, encode(t, &layers.DNS{ID: 5, QR: true, Questions: question("lab.test", layers.DNSTypeSOA),
		Answers: []layers.DNSResourceRecord{soa("lab.test")}}))
	h.Data(network.ToServer, ts, []byte{1, 2, 3})
	h.Data(network.ToServer, ts, encode(t, &layers.DNS{ID: 5, QR: true})) // a response sent to the server
	h.Close(ts)
	if len(evs) != 1 || evs[0].DNS.Question.Type != "SOA" || evs[0].Event.Outcome != "success" || conv.Env.Counters.Malformed != 2 {
		t.Errorf("%+v malformed %d", evs, conv.Env.Counters.Malformed)
	}
}

// FuzzDNS parses arbitrary messages and feeds them to UDP and TCP
// handlers in both directions.
func FuzzDNS(f *testing.F) {
	f.Add(encode(f, &layers.DNS{ID: 3, Questions: question("lab.test", layers.DNSType(252))}))
	f.Add(encode(f, &layers.DNS{ID: 3, QR: true, Questions: question("lab.test", layers.DNSType(252)),
		Answers: []layers.DNSResourceRecord{soa("lab.test"), a("x.lab.test", "10.1.1.1"), soa("lab.test")}}))
	f.Add([]byte("\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x0c\x00\x01\x00\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := Parse(b); err == nil && len(m.QName) > 4*maxName {
			t.Fatalf("name of %d bytes", len(m.QName))
		}
		for _, tr := range []network.Transport{network.UDP, network.TCP} {
			in := b
			if tr == network.TCP {
				in = tcp(b)
			}
			// Every selection decodes and counts alike and emits the
			// events of EventsAll it selects, unchanged.
			var all []schema.Event
			var allCounters network.Counters
			for _, sel := range []Events{EventsAll, EventsTransfers, EventsFailures} {
				var evs []schema.Event
				flow := network.Flow{Transport: tr, Client: netip.MustParseAddrPort("10.0.0.9:53001"),
					Server: netip.MustParseAddrPort("10.0.0.1:53")}
				conv := network.NewConv(flow, network.NewEnv(func(e schema.Event) { evs = append(evs, e) }, nil, 1<<20))
				h := Dissector{Events: sel}.NewHandler(conv)
				h.Data(network.ToServer, ts, in)
				h.Data(network.ToClient, ts, in)
				h.Close(ts)
				if conv.Env.Buffered() != 0 || len(evs) > 2 {
					t.Fatalf("buffered %d, %d events", conv.Env.Buffered(), len(evs))
				}
				c := *conv.Env.Counters
				if sel == EventsAll {
					all, allCounters = evs, c
					continue
				}
				if c.Messages != allCounters.Messages || c.Malformed != allCounters.Malformed || c.DNSQueries != allCounters.DNSQueries {
					t.Fatalf("%v counters %+v, all %+v", sel, c, allCounters)
				}
				var want []schema.Event
				for _, ev := range all {
					if ev.DNS.ZoneTransfer || sel == EventsFailures && ev.Event.Outcome == schema.OutcomeFailure {
						want = append(want, ev)
					}
				}
				if !reflect.DeepEqual(evs, want) {
					t.Fatalf("%v events %+v, want %+v", sel, evs, want)
				}
			}
		}
	})
}

// BenchmarkQuery measures one UDP query and its answer.
func BenchmarkQuery(b *testing.B) {
	var evs []schema.Event
	h, conv := newHandler(network.UDP, &evs)
	conv.Env.Emit = func(schema.Event) {}
	q := encode(b, &layers.DNS{ID: 7, RD: true, Questions: question("_ldap._tcp.dc._msdcs.lab.test", layers.DNSTypeSRV)})
	r := encode(b, &layers.DNS{ID: 7, QR: true, Questions: question("_ldap._tcp.dc._msdcs.lab.test", layers.DNSTypeSRV),
		Answers: []layers.DNSResourceRecord{soa("lab.test"), a("dc1.lab.test", "10.0.0.1")}})
	b.SetBytes(int64(len(q) + len(r)))
	for b.Loop() {
		h.Data(network.ToServer, ts, q)
		h.Data(network.ToClient, ts, r)
	}
	if conv.Env.Counters.Events != int64(b.N) {
		b.Fatalf("%d events for %d queries", conv.Env.Counters.Events, b.N)
	}
}

// TestEventsSelection runs one conversation (a SRV query answered
// NOERROR, an A query answered NXDOMAIN, an unanswered A query, an AXFR
// answered NOERROR) under each selection: every query is counted, only the
// selected ones become events.
func TestEventsSelection(t *testing.T) {
	for _, tc := range []struct {
		events Events
		want   []string // dns.question.name of the events, in order
	}{
		{EventsAll, []string{"lab.test", "_ldap._tcp.lab.test", "nosuch.lab.test", "lost.lab.test"}},
		{EventsTransfers, []string{"lab.test"}},
		{EventsFailures, []string{"lab.test", "nosuch.lab.test"}},
	} {
		t.Run(tc.events.String(), func(t *testing.T) {
			var evs []schema.Event
			flow := network.Flow{Transport: network.UDP, Client: netip.MustParseAddrPort("10.0.0.9:53001"),
				Server: netip.MustParseAddrPort("10.0.0.1:53")}
			c := network.NewConv(flow, network.NewEnv(func(e schema.Event) { evs = append(evs, e) }, nil, 1<<20))
			h := Dissector{Events: tc.events}.NewHandler(c)
			h.Data(network.ToServer, ts, encode(t, &layers.DNS{ID: 1, Questions: question("_ldap._tcp.lab.test", layers.DNSTypeSRV)}))
			h.Data(network.ToServer, ts, encode(t, &layers.DNS{ID: 2, Questions: question("nosuch.lab.test", layers.DNSTypeA)}))
			h.Data(network.ToServer, ts, encode(t, &layers.DNS{ID: 3, Questions: question("lost.lab.test", layers.DNSTypeA)}))
			h.Data(network.ToServer, ts, encode(t, &layers.DNS{ID: 4, Questions: question("lab.test", layers.DNSType(252))}))
			h.Data(network.ToClient, ts, encode(t, &layers.DNS{ID: 4, QR: true, Questions: question("lab.test", layers.DNSType(252)),
				Answers: []layers.DNSResourceRecord{soa("lab.test"), soa("lab.test")}}))
			h.Data(network.ToClient, ts, encode(t, &layers.DNS{ID: 1, QR: true, Questions: question("_ldap._tcp.lab.test", layers.DNSTypeSRV)}))
			h.Data(network.ToClient, ts, encode(t, &layers.DNS{ID: 2, QR: true, ResponseCode: layers.DNSResponseCodeNXDomain,
				Questions: question("nosuch.lab.test", layers.DNSTypeA)}))
			h.Close(ts)
			var got []string
			for _, ev := range evs {
				got = append(got, ev.DNS.Question.Name)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("events %q, want %q", got, tc.want)
			}
			if q := c.Env.Counters.DNSQueries; q != 4 {
				t.Errorf("DNSQueries %d, want 4", q)
			}
			if e := c.Env.Counters.Events; e != int64(len(tc.want)) {
				t.Errorf("Events counter %d, want %d", e, len(tc.want))
			}
		})
	}
}

func TestParseEvents(t *testing.T) {
	for _, e := range []Events{EventsAll, EventsTransfers, EventsFailures} {
		if got, err := ParseEvents(e.String()); err != nil || got != e {
			t.Errorf("ParseEvents(%q) = %v, %v", e.String(), got, err)
		}
	}
	for _, s := range []string{"", "ALL", "failure", "none"} {
		if _, err := ParseEvents(s); err == nil {
			t.Errorf("ParseEvents(%q): no error", s)
		}
	}
}
