package samba

import (
	"bytes"
	"os"
	"testing"
)

// BenchmarkDecode decodes the audit records of the real lab log in turn.
func BenchmarkDecode(b *testing.B) {
	raw, err := os.ReadFile("testdata/lab.log")
	if err != nil {
		b.Fatal(err)
	}
	var lines [][]byte
	size := 0
	for l := range bytes.SplitSeq(raw, []byte("\n")) {
		if _, err := Decode(l, testHost); err == nil {
			lines = append(lines, l)
			size += len(l)
		}
	}
	b.SetBytes(int64(size / len(lines)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := Decode(lines[i%len(lines)], testHost); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkSkip measures the cost of the non-audit lines that make up most
// of a DC's log.
func BenchmarkSkip(b *testing.B) {
	line := []byte("[2026/11/28 08:23:48.358315,  3] ../../source4/auth/kerberos/krb5_init_context.c:90(smb_krb5_debug_wrapper)")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(line, testHost); err != ErrSkip {
			b.Fatal(err)
		}
	}
}
