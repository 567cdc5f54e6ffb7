package netsensor

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// BenchmarkReadFile reads a ≥ 50 MB capture made of the recorded sample
// flows repeated (shifted in time so each repetition is new traffic).
func BenchmarkReadFile(b *testing.B) {
	type pkt struct {
		data []byte
		info packetInfo
	}
	var pkts []pkt
	files, _ := filepath.Glob(filepath.Join(samplesDir, "*.pcap"))
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		src, err := newPacketSource(bytes.NewReader(raw))
		if err != nil {
			b.Fatal(err)
		}
		for {
			d, info, err := src.next()
			if err != nil {
				break
			}
			pkts = append(pkts, pkt{append([]byte(nil), d...), info})
		}
	}
	path := filepath.Join(b.TempDir(), "bench.pcap")
	out, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := pcapgo.NewWriter(out)
	if err := w.WriteFileHeader(65536, layers.LinkTypeEthernet); err != nil {
		b.Fatal(err)
	}
	var size, n int64
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for rep := 0; size < 50<<20; rep++ {
		for _, p := range pkts {
			off := p.info.ts.Sub(pkts[0].info.ts) % time.Minute
			ci := gopacket.CaptureInfo{Timestamp: base.Add(time.Duration(rep)*time.Minute + off), CaptureLength: len(p.data), Length: len(p.data)}
			if err := w.WritePacket(ci, p.data); err != nil {
				b.Fatal(err)
			}
			size += int64(len(p.data)) + 16
			n++
		}
	}
	out.Close()
	b.SetBytes(size)
	b.ResetTimer()
	var events int64
	for b.Loop() {
		st, err := ReadFile(path, func(schema.Event) { events++ }, Options{})
		if err != nil || st.Packets != n {
			b.Fatalf("read %d of %d packets: %v", st.Packets, n, err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "packets/s")
	b.ReportMetric(float64(events)/float64(b.N), "events/op")
}
