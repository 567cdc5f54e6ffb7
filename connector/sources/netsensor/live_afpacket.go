//go:build linux && cgo && afpacket

package netsensor

import (
	"context"
	"errors"
	"fmt"
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
	if cfg.BPF != "" {
		ins, err := pcap.CompileBPFFilter(layers.LinkTypeEthernet, cfg.Snaplen, cfg.BPF)
		if err != nil {
			return fmt.Errorf("netsensor: bpf %q: %w", cfg.BPF, err)
		}
		raw := make([]bpf.RawInstruction, len(ins))
		for i, in := range ins {
			raw[i] = bpf.RawInstruction{Op: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K}
		}
		if err := tp.SetBPF(raw); err != nil {
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
