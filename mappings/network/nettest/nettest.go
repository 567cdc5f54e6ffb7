// Package nettest replays the payloads of a recorded capture through one
// dissector, without the sensor's reassembly: for the dissectors'
// per-call benchmarks (each op is the same conversations again). It suits
// clean captures (the lab recordings under samples/pcap: no loss, no
// retransmission), not arbitrary traffic.
package nettest

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/castellan-itdr/castellan/mappings/network"
)

// Segment is one payload of a conversation.
type Segment struct {
	Flow network.Flow
	Dir  network.Direction
	TS   time.Time
	Data []byte
}

// Segments reads the non-empty TCP or UDP payloads to and from the server
// port of the capture at path (pcap or pcapng), in capture order.
func Segments(path string, t network.Transport, port uint16) ([]Segment, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	type reader interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	}
	var r reader
	var link layers.LinkType
	if ng, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions); err == nil {
		r, link = ng, ng.LinkType()
	} else {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		p, err := pcapgo.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: not a capture: %w", path, err)
		}
		r, link = p, p.LinkType()
	}
	var out []Segment
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		pkt := gopacket.NewPacket(data, link, gopacket.Default)
		var src, dst netip.Addr
		switch ip := pkt.NetworkLayer().(type) {
		case *layers.IPv4:
			src, _ = netip.AddrFromSlice(ip.SrcIP.To4())
			dst, _ = netip.AddrFromSlice(ip.DstIP.To4())
		case *layers.IPv6:
			src, _ = netip.AddrFromSlice(ip.SrcIP)
			dst, _ = netip.AddrFromSlice(ip.DstIP)
		default:
			continue
		}
		var sport, dport uint16
		var payload []byte
		switch l := pkt.TransportLayer().(type) {
		case *layers.TCP:
			if t != network.TCP {
				continue
			}
			sport, dport, payload = uint16(l.SrcPort), uint16(l.DstPort), l.Payload
		case *layers.UDP:
			if t != network.UDP {
				continue
			}
			sport, dport, payload = uint16(l.SrcPort), uint16(l.DstPort), l.Payload
		default:
			continue
		}
		if len(payload) == 0 {
			continue
		}
		s := Segment{TS: ci.Timestamp, Data: append([]byte(nil), payload...)}
		switch port {
		case dport:
			s.Flow = network.Flow{Transport: t, Client: netip.AddrPortFrom(src, sport), Server: netip.AddrPortFrom(dst, dport)}
			s.Dir = network.ToServer
		case sport:
			s.Flow = network.Flow{Transport: t, Client: netip.AddrPortFrom(dst, dport), Server: netip.AddrPortFrom(src, sport)}
			s.Dir = network.ToClient
		default:
			continue
		}
		out = append(out, s)
	}
}

// Replay runs segs through d in env: one handler per flow, all closed at
// the end, in order of first appearance.
func Replay(d network.Dissector, env *network.Env, segs []Segment) {
	handlers := map[network.Flow]network.Handler{}
	var order []network.Handler
	var last time.Time
	for _, s := range segs {
		h, ok := handlers[s.Flow]
		if !ok {
			h = d.NewHandler(network.NewConv(s.Flow, env))
			handlers[s.Flow] = h
			order = append(order, h)
		}
		h.Data(s.Dir, s.TS, s.Data)
		last = s.TS
	}
	for _, h := range order {
		h.Close(last)
	}
}
