package smb

import (
	"path/filepath"
	"testing"

	"github.com/castellan-itdr/castellan/mappings/network"
	"github.com/castellan-itdr/castellan/mappings/network/nettest"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// BenchmarkReplayNTLM replays the recorded SMB2 NTLM session setups (ntlm.SessionSetups) and pipe calls per op through the dissector
// (payloads as recorded, no reassembly): allocs/op over events/op is the
// cost of one event.
func BenchmarkReplayNTLM(b *testing.B) {
	var segs []nettest.Segment
	var size int64
	for _, f := range []string{"smb-ntlm.pcap", "rpc-smb-recon.pcap"} {
		s, err := nettest.Segments(filepath.Join("../../../samples/pcap", f), network.TCP, 445)
		if err != nil {
			b.Fatal(err)
		}
		for _, x := range s {
			size += int64(len(x.Data))
		}
		segs = append(segs, s...)
	}
	var events int64
	env := network.NewEnv(func(schema.Event) { events++ }, nil, 1<<20)
	b.SetBytes(size)
	for b.Loop() {
		nettest.Replay(New(), env, segs)
	}
	if events == 0 || env.Counters.Malformed != 0 {
		b.Fatalf("%d events, %d malformed", events, env.Counters.Malformed)
	}
	b.ReportMetric(float64(events)/float64(b.N), "events/op")
}
