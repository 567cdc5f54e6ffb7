package pipeline

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/castellan-itdr/castellan/connector/config"
	"github.com/castellan-itdr/castellan/mappings/schema"
	"github.com/castellan-itdr/castellan/mappings/windows"
	"github.com/castellan-itdr/castellan/mappings/windows/evtx"
	"github.com/castellan-itdr/castellan/samples"
)

// benchEVTX returns the EVTX file to benchmark: $CASTELLAN_BENCH_EVTX, or a
// generated one of $CASTELLAN_BENCH_SIZE (default 64MB; use 1GB for the
// issue's figure).
func benchEVTX(b *testing.B) string {
	if p := os.Getenv("CASTELLAN_BENCH_EVTX"); p != "" {
		return p
	}
	size := int64(64 << 20)
	if s := os.Getenv("CASTELLAN_BENCH_SIZE"); s != "" {
		n, err := samples.ParseSize(s)
		if err != nil {
			b.Fatal(err)
		}
		size = n
	}
	dir := b.TempDir()
	if _, err := samples.Generate(samples.Options{Seed: 1, OutDir: dir, Format: samples.FormatEVTX, Size: size}); err != nil {
		b.Fatal(err)
	}
	return filepath.Join(dir, "dc02-security.evtx")
}

// BenchmarkEVTXDetect measures, on one EVTX file, the three stages of the
// offline path: EVTX decoding alone, decoding plus normalization into
// events, and both plus enrichment, every built-in rule and correlation.
// The difference between the last two is what detection costs.
func BenchmarkEVTXDetect(b *testing.B) {
	path := benchEVTX(b)
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B, each func(*windows.Record)) {
		b.SetBytes(fi.Size())
		records := 0
		for i := 0; i < b.N; i++ {
			f, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			r, err := evtx.NewReader(f, fi.Size(), evtx.Options{})
			if err != nil {
				b.Fatal(err)
			}
			for {
				rec, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				records++
				each(&rec)
			}
			f.Close()
		}
		b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "events/s")
	}
	b.Run("decode", func(b *testing.B) { run(b, func(*windows.Record) {}) })
	b.Run("decode+normalize", func(b *testing.B) {
		run(b, func(rec *windows.Record) { _ = windows.NormalizeOwned(rec, "evtx") })
	})
	b.Run("decode+normalize+rules", func(b *testing.B) {
		cfg := config.Default()
		cfg.Detections.DomainControllers = []string{"DC01", "DC02"}
		proc, err := NewProcessor(cfg)
		if err != nil {
			b.Fatal(err)
		}
		batch := make([]schema.Event, 0, 1000)
		alerts := 0
		emit := func(r schema.Record) {
			if _, ok := r.(schema.Alert); ok {
				alerts++
			}
		}
		run(b, func(rec *windows.Record) {
			batch = append(batch, windows.NormalizeOwned(rec, "evtx"))
			if len(batch) == cap(batch) {
				proc.Process(batch, emit)
				batch = batch[:0]
			}
		})
		proc.Process(batch, emit)
		b.ReportMetric(float64(alerts)/float64(b.N), "alerts/op")
	})
}
