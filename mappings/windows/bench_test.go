package windows

import (
	"os"
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

func BenchmarkDecodeXMLEvent(b *testing.B) {
	var events [][]byte
	for _, name := range []string{"4624", "4769", "4662", "1102", "4768-rendered"} {
		x, err := os.ReadFile("testdata/xml/" + name + ".xml")
		if err != nil {
			b.Fatal(err)
		}
		events = append(events, x)
	}
	size := 0
	for _, e := range events {
		size += len(e)
	}
	b.SetBytes(int64(size / len(events)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := DecodeXMLEvent(events[i%len(events)], "winxml"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
