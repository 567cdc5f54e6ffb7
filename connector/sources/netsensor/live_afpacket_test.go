//go:build linux && cgo && afpacket

package netsensor

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
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

// TestLiveLoopback captures on lo with a BPF filter while the test sends a
// real AS-REQ to the lab KDC over UDP, and expects the exchange's event
// exactly once (AF_PACKET sees each loopback packet twice; the filter drops
// the outgoing copy).
func TestLiveLoopback(t *testing.T) {
	env := sambalab.Env(t) // needs root, as AF_PACKET does
	asReq := recordedASReq(t)
	kdc := net.JoinHostPort(env["LAB_DC_IP"], "88")

	cfg := NewDefaultConfig()
	cfg.Interface = "lo"
	cfg.BPF = "udp port 88"
	cfg.BatchSize = 10
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
	var port int
	deadline := time.Now().Add(15 * time.Second)
	for port == 0 || len(mine(port)) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no event from the live capture within 15s (last client port %d)", port)
		}
		c, err := net.Dial("udp", kdc)
		if err != nil {
			t.Fatal(err)
		}
		port = c.LocalAddr().(*net.UDPAddr).Port
		if _, err := c.Write(asReq); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		buf := make([]byte, 4096)
		if _, err := c.Read(buf); err != nil {
			t.Fatalf("KDC at %s did not answer: %v", kdc, err)
		}
		c.Close()
		for i := 0; i < 15 && len(mine(port)) == 0; i++ {
			time.Sleep(100 * time.Millisecond)
		}
	}
	// A duplicate would arrive in the same or the next batch (1 s).
	time.Sleep(1500 * time.Millisecond)
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
