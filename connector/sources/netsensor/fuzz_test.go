package netsensor

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// FuzzRead feeds arbitrary files to the capture reader and the whole
// decoding chain: errors and counters, never a panic or a huge allocation
// (records are capped at MaxPacket before anything is allocated).
func FuzzRead(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(samplesDir, "*.pcap*"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil && len(b) < 16<<10 {
			f.Add(b)
		}
	}
	f.Add([]byte("\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff\x01\x00\x00\x00"))
	f.Add([]byte("\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x4d\x3c\x2b\x1a\x01\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff\x1c\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := Read(bytes.NewReader(b), func(schema.Event) {}, Options{MaxBufferedBytes: 4 << 20})
		if err != nil {
			return
		}
		if st.Panics != 0 {
			t.Fatalf("dissector panic on input %q", b)
		}
	})
}
