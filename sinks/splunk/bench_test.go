package splunk

import (
	"context"
	"testing"

	"github.com/castellan-itdr/castellan/sinks/delivery"
	"github.com/castellan-itdr/castellan/sinks/sinktest"
	"github.com/castellan-itdr/castellan/sinks/sinktest/hecfake"
)

// BenchmarkPush measures records/s as the pipeline drives the sink:
// Encode 500 typed alerts (the sender's default batch; CIM fields and the
// HEC event, at enqueue), then Push them into hecfake over loopback HTTP
// (framing, the request, and the double's parsing and storing, on the same
// cores).
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
			recs := sinktest.Alerts(500)
			items := make([]delivery.Item, len(recs))
			size := 0
			for _, it := range sinktest.EncodeItems(Encode, recs...) {
				size += len(it.Body)
			}
			b.SetBytes(int64(size))
			b.ResetTimer()
			for b.Loop() {
				for i, r := range recs {
					it, err := Encode(r)
					if err != nil {
						b.Fatal(err)
					}
					items[i] = it
				}
				if err := s.Push(context.Background(), items); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(items))/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkEncode measures the sink's work per record at enqueue: map the
// typed alert to CIM and write the HEC event.
func BenchmarkEncode(b *testing.B) {
	recs := sinktest.Alerts(500)
	b.ReportAllocs()
	for b.Loop() {
		for _, r := range recs {
			if _, err := Encode(r); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*len(recs))/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkEncodeRecordJSON measures the slow path for items queued as
// schema JSON: decode the record, map it to CIM, write the HEC event.
func BenchmarkEncodeRecordJSON(b *testing.B) {
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
