package evtx

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	velocidex "www.velocidex.com/golang/evtx"
)

// benchInput picks the benchmark file: $CASTELLAN_BENCH_EVTX, else the
// largest corpus file, else a file built by the test builder.
func benchInput(b *testing.B) ([]byte, string) {
	b.Helper()
	if p := os.Getenv("CASTELLAN_BENCH_EVTX"); p != "" {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		return data, p
	}
	best, size := "", int64(0)
	_ = filepath.WalkDir(corpusDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".evtx") {
			return nil
		}
		if fi, err := d.Info(); err == nil && fi.Size() > size {
			best, size = p, fi.Size()
		}
		return nil
	})
	if best != "" {
		data, err := os.ReadFile(best)
		if err != nil {
			b.Fatal(err)
		}
		return data, best
	}
	return syntheticFile(2000), "synthetic (test builder, 2000 records)"
}

func BenchmarkParse(b *testing.B) {
	data, name := benchInput(b)
	b.Logf("input: %s (%d bytes)", name, len(data))

	b.Run("castellan", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		records := 0
		for b.Loop() {
			r, err := NewReader(bytes.NewReader(data), int64(len(data)), Options{})
			if err != nil {
				b.Fatal(err)
			}
			records = 0
			for {
				_, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				records++
			}
		}
		b.ReportMetric(float64(records*b.N)/b.Elapsed().Seconds(), "records/s")
	})

	b.Run("velocidex", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		records := 0
		for b.Loop() {
			chunks, err := velocidex.GetChunks(bytes.NewReader(data))
			if err != nil {
				b.Fatal(err)
			}
			records = 0
			for _, c := range chunks {
				recs, err := c.Parse(0)
				if err != nil {
					b.Fatal(err)
				}
				records += len(recs)
			}
		}
		b.ReportMetric(float64(records*b.N)/b.Elapsed().Seconds(), "records/s")
	})
}
