package splunk

import (
	"context"
	"testing"

	"github.com/castellan-itdr/castellan/sinks/sinktest"
	"github.com/castellan-itdr/castellan/sinks/sinktest/hecfake"
)

// BenchmarkPush pushes batches of 500 alerts (the sender's default batch)
// into hecfake over loopback HTTP and reports records/s. The double's
// parsing and storing run on the same cores.
func BenchmarkPush(b *testing.B) {
	for _, ack := range []bool{false, true} {
		name := "no-ack"
		if ack {
			name = "ack"
		}
		b.Run(name, func(b *testing.B) {
			d := hecfake.New(hecfake.Options{UseACK: ack})
			defer d.Close()
			s := newSink(b, d.URL(), func(c *Config) { c.UseAck = ack })
			items := sinktest.Items(sinktest.Alerts(500)...)
			size := 0
			for _, it := range items {
				size += len(it.Body)
			}
			b.SetBytes(int64(size))
			b.ResetTimer()
			for b.Loop() {
				if err := s.Push(context.Background(), items); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(items))/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkEncode measures the sink's own work per record: decode the
// queued JSON, map it to CIM, write the HEC event.
func BenchmarkEncode(b *testing.B) {
	items := sinktest.Items(sinktest.Alerts(500)...)
	env := envelope{SourcetypePrefix: "castellan", Index: "security"}
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = buf[:0]
		for _, it := range items {
			var err error
			if buf, err = appendEvent(buf, it, env); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*len(items))/b.Elapsed().Seconds(), "records/s")
}
