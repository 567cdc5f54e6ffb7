//go:build linux && cgo && afpacket

package netsensor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/google/gopacket/afpacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcap"
	"golang.org/x/net/bpf"
)

// ErrNoLive is never returned by this build.
var ErrNoLive = errors.New("netsensor: live capture is not built in")

const liveAvailable = true

// capture reads packets from cfg.Interface with AF_PACKET (TPACKET_V3)
// until ctx ends, applying cfg.BPF compiled by libpcap.
func capture(ctx context.Context, cfg *Config, fn func([]byte, packetInfo)) error {
	tp, err := afpacket.NewTPacket(afpacket.OptInterface(cfg.Interface),
		afpacket.OptFrameSize(1<<16), afpacket.OptBlockSize(1<<20), afpacket.OptNumBlocks(64),
		afpacket.OptPollTimeout(200*time.Millisecond), afpacket.TPacketVersion3)
	if err != nil {
		return fmt.Errorf("netsensor: open %s: %w", cfg.Interface, err)
	}
	defer tp.Close()
	prog, err := liveFilter(cfg)
	if err != nil {
		return err
	}
	if len(prog) > 0 {
		if err := tp.SetBPF(prog); err != nil {
			return fmt.Errorf("netsensor: set bpf: %w", err)
		}
	}
	for ctx.Err() == nil {
		data, ci, err := tp.ZeroCopyReadPacketData()
		if errors.Is(err, afpacket.ErrTimeout) || errors.Is(err, afpacket.ErrPoll) {
			continue
		}
		if err != nil {
			return fmt.Errorf("netsensor: read %s: %w", cfg.Interface, err)
		}
		if len(data) > cfg.Snaplen && cfg.Snaplen > 0 {
			data = data[:cfg.Snaplen]
		}
		fn(data, packetInfo{ts: ci.Timestamp.UTC(), caplen: len(data), origlen: ci.Length, linkType: layers.LinkTypeEthernet})
	}
	return nil
}

// Linux socket-filter ancillary load of the packet type (SKF_AD_OFF +
// SKF_AD_PKTTYPE) and the type of packets the host sent (PACKET_OUTGOING).
const (
	skfPacketType  = 0xfffff000 + 4
	packetOutgoing = 4
)

// liveFilter compiles cfg.BPF with libpcap. On a loopback interface, where
// AF_PACKET delivers every packet twice (once outgoing, once incoming), it
// first drops the outgoing copy, as libpcap does for tcpdump -i lo: each
// datagram or segment then reaches the dissectors once.
func liveFilter(cfg *Config) ([]bpf.RawInstruction, error) {
	var prog []bpf.RawInstruction
	if ifc, err := net.InterfaceByName(cfg.Interface); err == nil && ifc.Flags&net.FlagLoopback != 0 {
		prog = []bpf.RawInstruction{
			{Op: 0x20, K: skfPacketType},                // ld [pkttype]
			{Op: 0x15, Jt: 0, Jf: 1, K: packetOutgoing}, // jeq #outgoing, drop, next
			{Op: 0x06, K: 0},                            // drop: ret #0
		}
	}
	if cfg.BPF == "" {
		if prog != nil {
			prog = append(prog, bpf.RawInstruction{Op: 0x06, K: 0xffffffff}) // ret #all
		}
		return prog, nil
	}
	snaplen := cfg.Snaplen
	if snaplen <= 0 {
		snaplen = MaxPacket
	}
	ins, err := pcap.CompileBPFFilter(layers.LinkTypeEthernet, snaplen, cfg.BPF)
	if err != nil {
		return nil, fmt.Errorf("netsensor: bpf %q: %w", cfg.BPF, err)
	}
	for _, in := range ins {
		prog = append(prog, bpf.RawInstruction{Op: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K})
	}
	return prog, nil
}
