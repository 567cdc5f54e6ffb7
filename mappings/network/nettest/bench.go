package nettest

import (
	"testing"

	"github.com/castellan-itdr/castellan/mappings/network"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// BenchmarkReplay replays the t payloads to and from the server port of
// the captures (paths) through d per op (payloads as recorded, no
// reassembly), reporting bytes and events per op: allocs/op over events/op
// is the cost of one event. It fails when the captures yield no event or
// any malformed payload.
func BenchmarkReplay(b *testing.B, d network.Dissector, t network.Transport, port uint16, captures ...string) {
	var segs []Segment
	var size int64
	for _, path := range captures {
		s, err := Segments(path, t, port)
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
		Replay(d, env, segs)
	}
	if events == 0 || env.Counters.Malformed != 0 {
		b.Fatalf("%d events, %d malformed", events, env.Counters.Malformed)
	}
	b.ReportMetric(float64(events)/float64(b.N), "events/op")
}
