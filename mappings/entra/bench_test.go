package entra

import (
	"os"
	"testing"
)

func BenchmarkFromSignIn(b *testing.B) {
	rec := graphValues(b, "testdata/signIns.graph.json")[3]
	b.SetBytes(int64(len(rec)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := testMapper.FromSignIn(rec); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDiagnosticBody(b *testing.B) {
	body, err := os.ReadFile("testdata/signIns.diagnostic.json")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		recs, err := SplitDiagnostic(body)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range recs {
			_, _ = testMapper.FromDiagnosticRecord(r)
		}
	}
}
