package windows

import (
	"testing"
)

func BenchmarkDecodeJSONEvent(b *testing.B) {
	for _, shape := range []struct{ name, file string }{
		{"winlogbeat", "testdata/winlogbeat.jsonl"},
		{"nxlog", "testdata/nxlog.jsonl"},
	} {
		b.Run(shape.name, func(b *testing.B) {
			lines := readLines(b, shape.file)
			size := 0
			for _, l := range lines {
				size += len(l)
			}
			b.SetBytes(int64(size / len(lines)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if _, err := DecodeJSONEvent(lines[i%len(lines)], "winjson"); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
