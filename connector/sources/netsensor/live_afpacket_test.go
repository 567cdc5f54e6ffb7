//go:build linux && cgo && afpacket

package netsensor

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/castellan-itdr/castellan/connector/component"
	"github.com/castellan-itdr/castellan/internal/sambalab"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// recordedASReq returns the UDP payload of the first AS-REQ in the
// recorded kerberos-udp sample (alice asking the lab KDC for a TGT without
// pre-authentication).
func recordedASReq(t *testing.T) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(samplesDir, "kerberos-udp.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	src, err := newPacketSource(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	for {
		data, info, err := src.next()
		if err != nil {
			t.Fatalf("no AS-REQ to port 88 in kerberos-udp.pcap: %v", err)
		}
		p := gopacket.NewPacket(data, info.linkType, gopacket.NoCopy)
		if u, ok := p.Layer(layers.LayerTypeUDP).(*layers.UDP); ok && u.DstPort == 88 && len(u.Payload) > 0 {
			return append([]byte(nil), u.Payload...)
		}
	}
}

// dnsQuery encodes a recursive DNS query (RFC 1035) for name and type.
func dnsQuery(id uint16, name string, qtype uint16) []byte {
	b := []byte{byte(id >> 8), byte(id), 1, 0, 0, 1, 0, 0, 0, 0, 0, 0}
	for _, l := range strings.Split(name, ".") {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	return append(b, 0, byte(qtype>>8), byte(qtype), 0, 1)
}

// TestLiveLoopback captures on lo with a BPF filter while the test sends a
// real AS-REQ to the lab KDC and a DNS query to the lab DNS server over
// UDP, and expects each exchange's event exactly once (AF_PACKET sees each
// loopback packet twice; the filter drops the outgoing copy).
func TestLiveLoopback(t *testing.T) {
	env := sambalab.Env(t) // needs root, as AF_PACKET does
	asReq := recordedASReq(t)
	kdc := net.JoinHostPort(env["LAB_DC_IP"], "88")

	cfg := NewDefaultConfig()
	cfg.Interface = "lo"
	cfg.BPF = "udp port 88 or udp port 53"
	cfg.BatchSize = 10
	cfg.DNS.Events = "all" // the SOA query below is no zone transfer
	r := newRecorder()
	s, err := New(cfg, component.SourceSettings{ID: "netsensor/live", Next: r, Checkpoints: r})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())

	// The capture socket opens in the background: send until an exchange
	// is seen, from a fresh client port each time.
	mine := func(port int) []schema.Event {
		r.mu.Lock()
		defer r.mu.Unlock()
		var out []schema.Event
		for _, ev := range r.events {
			if ev.Source.Port == port {
				out = append(out, ev)
			}
		}
		return out
	}
	// exchange sends req to server from a fresh client port until the
	// capture reports an event for that port, and returns the port.
	exchange := func(server string, req []byte) int {
		t.Helper()
		var port int
		deadline := time.Now().Add(15 * time.Second)
		for port == 0 || len(mine(port)) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("no event from the live capture within 15s (server %s, last client port %d)", server, port)
			}
			c, err := net.Dial("udp", server)
			if err != nil {
				t.Fatal(err)
			}
			port = c.LocalAddr().(*net.UDPAddr).Port
			if _, err := c.Write(req); err != nil {
				t.Fatal(err)
			}
			_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
			buf := make([]byte, 4096)
			if _, err := c.Read(buf); err != nil {
				t.Fatalf("%s did not answer: %v", server, err)
			}
			c.Close()
			for i := 0; i < 15 && len(mine(port)) == 0; i++ {
				time.Sleep(100 * time.Millisecond)
			}
		}
		return port
	}
	port := exchange(kdc, asReq)
	dnsPort := exchange(net.JoinHostPort(env["LAB_DC_IP"], "53"), dnsQuery(0x4242, strings.ToLower(env["LAB_REALM"]), 6))
	// A duplicate would arrive in the same or the next batch (1 s).
	time.Sleep(1500 * time.Millisecond)
	if evs := mine(dnsPort); len(evs) != 1 || evs[0].Event.Kind != schema.KindDNSQuery ||
		evs[0].DNS.Question.Name != strings.ToLower(env["LAB_REALM"]) || evs[0].DNS.Question.Type != "SOA" || evs[0].DNS.ResponseCode == "" {
		t.Errorf("DNS: want one answered SOA query event, got %+v", evs)
	} else {
		t.Logf("live DNS event: %s %s %s", evs[0].DNS.Question.Type, evs[0].DNS.Question.Name, evs[0].DNS.ResponseCode)
	}
	evs := mine(port)
	if len(evs) != 1 {
		t.Fatalf("%d events for one exchange, want 1: %+v", len(evs), evs)
	}
	ev := evs[0]
	if ev.Event.Kind != schema.KindKerberosTGT || ev.Event.Dataset != "netsensor" || ev.User.Name != "alice" ||
		ev.Event.Outcome != schema.OutcomeFailure || ev.Destination.Port != 88 || ev.Auth.Kerberos.PreauthType != "0" {
		t.Errorf("unexpected event: %+v", ev)
	}
	t.Logf("live event: %s %s user=%s status=%s reason=%q", ev.Event.Kind, ev.Event.Code, ev.User.Name, ev.Auth.Kerberos.Status, ev.Event.Reason)
}
