package pipeline

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

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
		b.ResetTimer()
		cpu0, gc0 := cpuTime(b), numGC()
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
		reportCPU(b, cpu0, gc0, records)
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
		// The share of detection in this very run, timed batch by batch:
		// both sides see the same machine load, unlike two stages run one
		// after the other on a shared machine.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var rulesCPU, rulesWall time.Duration
		process := func() {
			c0, w0 := threadCPU(), time.Now()
			proc.Process(batch, emit)
			rulesCPU += threadCPU() - c0
			rulesWall += time.Since(w0)
			batch = batch[:0]
		}
		c0, w0 := threadCPU(), time.Now()
		run(b, func(rec *windows.Record) {
			batch = append(batch, windows.NormalizeOwned(rec, "evtx"))
			if len(batch) == cap(batch) {
				process()
			}
		})
		process()
		cpu, wall := threadCPU()-c0, time.Since(w0)
		b.ReportMetric(float64(alerts)/float64(b.N), "alerts/op")
		b.ReportMetric(100*rulesWall.Seconds()/(wall-rulesWall).Seconds(), "rules/parse-wall-%")
		if cpu > 0 {
			b.ReportMetric(100*rulesCPU.Seconds()/(cpu-rulesCPU).Seconds(), "rules/parse-cpu-%")
		}
	})
	// rules-only runs enrichment, rules and correlation alone over the
	// file's first benchRulesEvents events, normalized beforehand: the
	// detection cost without decoding noise, for profiling.
	b.Run("rules-only", func(b *testing.B) {
		evs := benchEvents(b, path, fi.Size(), benchRulesEvents)
		cfg := config.Default()
		cfg.Detections.DomainControllers = []string{"DC01", "DC02"}
		batch := make([]schema.Event, 0, 1000)
		emit := func(schema.Record) {}
		procs := make([]*Processor, b.N) // built up front: CPU time counts all
		for i := range procs {
			var err error
			if procs[i], err = NewProcessor(cfg); err != nil {
				b.Fatal(err)
			}
		}
		b.ResetTimer()
		cpu0, gc0 := cpuTime(b), numGC()
		for _, proc := range procs {
			for j := range evs {
				batch = append(batch, evs[j])
				if len(batch) == cap(batch) {
					proc.Process(batch, emit)
					batch = batch[:0]
				}
			}
			proc.Process(batch, emit)
			batch = batch[:0]
		}
		reportCPU(b, cpu0, gc0, len(evs)*b.N)
	})
}

// benchRulesEvents is how many events the rules-only benchmark holds.
const benchRulesEvents = 100_000

// benchEvents decodes and normalizes up to n events of an EVTX file.
func benchEvents(b *testing.B, path string, size int64, n int) []schema.Event {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	r, err := evtx.NewReader(f, size, evtx.Options{})
	if err != nil {
		b.Fatal(err)
	}
	evs := make([]schema.Event, 0, n)
	for len(evs) < n {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		evs = append(evs, windows.NormalizeOwned(&rec, "evtx"))
	}
	return evs
}

// cpuTime is the process's user+system CPU time so far. On a shared
// machine wall time swings with other work (and the garbage collector's
// background marking runs on an idle core only when there is one); CPU time
// counts what the stage itself burned, GC included.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// numGC is the number of completed GC cycles.
func numGC() uint32 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.NumGC
}

// reportCPU reports events/s (wall), CPU seconds per op, events per CPU
// second and GC cycles per op since cpu0 and gc0.
func reportCPU(b *testing.B, cpu0 time.Duration, gc0 uint32, events int) {
	cpu := cpuTime(b) - cpu0
	gcs := numGC() - gc0
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(events)/cpu.Seconds(), "events/cpu-s")
	b.ReportMetric(float64(gcs)/float64(b.N), "gc/op")
}
