package evtx

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/castellan-itdr/castellan/connector/component"
	"github.com/castellan-itdr/castellan/samples/evtxwrite"
)

// BenchmarkReadFile measures a one-shot read of a 20,000-record file
// through the source: parse, normalize, batch, hand off.
func BenchmarkReadFile(b *testing.B) {
	p := filepath.Join(b.TempDir(), "Security.evtx")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	const n = 20000
	w := evtxwrite.NewWriter(f)
	for _, r := range windowsRecords(1, n) {
		if err := w.Write(r); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	fi, _ := os.Stat(p)
	cfg := testConfig(p)
	cfg.Follow = false
	var events int
	next := component.BatchConsumerFunc(func(_ context.Context, bt component.Batch) error {
		events += len(bt.Events)
		return nil
	})
	b.SetBytes(fi.Size())
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		events = 0
		src, err := New(cfg, component.SourceSettings{Next: next})
		if err != nil {
			b.Fatal(err)
		}
		if err := src.Start(context.Background(), nil); err != nil {
			b.Fatal(err)
		}
		<-src.Done()
		if err := src.Shutdown(context.Background()); err != nil {
			b.Fatal(err)
		}
		if events != n {
			b.Fatalf("%d events, want %d", events, n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
