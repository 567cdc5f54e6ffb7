package eventhub

import (
	"strings"
	"testing"
)

// FuzzParseConnectionString: any input gets a result or an error, never a
// panic, and an error never shows the SharedAccessKey's value.
func FuzzParseConnectionString(f *testing.F) {
	f.Add(testCS)
	f.Add("Endpoint=sb://a.b/;SharedAccessSignature=sig;EntityPath=x;")
	f.Add("endpoint=sb://;;=;SharedAccessKey")
	f.Fuzz(func(t *testing.T, in string) {
		cs, err := ParseConnectionString(in)
		if err == nil {
			if cs.Host == "" || (cs.Key == "" && cs.Signature == "") {
				t.Fatalf("accepted %q without host or credentials", in)
			}
			return
		}
		for _, seg := range strings.Split(in, ";") {
			k, v, ok := strings.Cut(seg, "=")
			v = strings.TrimSpace(v)
			if !ok || !strings.EqualFold(strings.TrimSpace(k), "SharedAccessKey") || len(v) < 20 || strings.Count(in, v) > 1 {
				continue
			}
			if strings.Contains(err.Error(), v) {
				t.Fatalf("error shows the key: %v", err)
			}
		}
	})
}

func BenchmarkDecodeDiagnostic(b *testing.B) {
	body := signIns("bench", 50)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		evs, errs := decodeDiagnostic(body)
		if len(evs) != 50 || len(errs) != 0 {
			b.Fatal(len(evs), errs)
		}
	}
}
