package ecs

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// stdJSON is what encoding/json writes for d with HTML escaping off: the
// reference AppendJSON must match byte for byte.
func stdJSON(t testing.TB, d *Document) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})
}

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	ev, al, in, fi, ac := sampleEvent(), sampleAlert(), sampleIncident(), sampleFinding(), sampleAction()
	docs := map[string]Document{
		"event": FromEvent(&ev, opts), "alert": FromAlert(&al, opts), "incident": FromIncident(&in, opts),
		"finding": FromFinding(&fi, opts), "action": FromAction(&ac, opts), "no options": FromAlert(&al, Options{}),
		"zero": {},
	}
	for name, d := range docs {
		got, err := d.AppendJSON(nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if want := stdJSON(t, &d); !bytes.Equal(got, want) {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
	// Random documents: every field zero or set, strings with characters
	// that need escaping, invalid UTF-8, line separators.
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		var d Document
		fill(rng, reflect.ValueOf(&d).Elem(), 0)
		got, err := d.AppendJSON(nil)
		if err != nil {
			t.Fatalf("doc %d: %v", i, err)
		}
		if want := stdJSON(t, &d); !bytes.Equal(got, want) {
			t.Fatalf("doc %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

func TestAppendJSONErrors(t *testing.T) {
	d := Document{Timestamp: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}
	if _, err := d.AppendJSON(nil); err == nil {
		t.Error("a year past 9999 must fail, as encoding/json does")
	}
}

var sampleStrings = []string{"a", "CONTOSO\\alice", `say "hi"`, "<b>&amp;</b>", "line\nbreak\ttab\r", "\x01\x1f\b\f",
	"\u2028\u2029", "bad \xff utf8", "café — 東京", "MITRE ATT&CK", "/path?x=1&y=2"}

// fill sets v to a random value: each field zero about half the time,
// slices and maps nil or with one to three elements.
func fill(rng *rand.Rand, v reflect.Value, depth int) {
	if rng.IntN(2) == 0 && depth > 0 {
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(sampleStrings[rng.IntN(len(sampleStrings))])
	case reflect.Int:
		v.SetInt(int64(rng.IntN(2000) - 1000))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Float64:
		v.SetFloat([]float64{73, 0.5, 1e-7, 1.5e21, -3, 99.25}[rng.IntN(6)])
	case reflect.Slice:
		n := 1 + rng.IntN(3)
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			fill(rng, s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for range 1 + rng.IntN(3) {
			m.SetMapIndex(reflect.ValueOf(sampleStrings[rng.IntN(len(sampleStrings))]), reflect.ValueOf(sampleStrings[rng.IntN(len(sampleStrings))]))
		}
		v.Set(m)
	case reflect.Pointer: // *time.Time
		p := reflect.New(v.Type().Elem())
		fill(rng, p.Elem(), 0)
		v.Set(p)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(1990+rng.IntN(60), time.Month(1+rng.IntN(12)), 1+rng.IntN(28),
				rng.IntN(24), rng.IntN(60), rng.IntN(60), []int{0, 123000000, 123456789}[rng.IntN(3)], time.UTC)))
			return
		}
		for i := range v.NumField() {
			fill(rng, v.Field(i), depth+1)
		}
	}
}

func BenchmarkAppendJSONAlert(b *testing.B) {
	al := sampleAlert()
	d := FromAlert(&al, opts)
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = d.AppendJSON(buf[:0])
	}
}

func BenchmarkEncodingJSONAlert(b *testing.B) {
	al := sampleAlert()
	d := FromAlert(&al, opts)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		_ = enc.Encode(&d)
	}
}

func BenchmarkFromAlert(b *testing.B) {
	al := sampleAlert()
	b.ReportAllocs()
	for b.Loop() {
		_ = FromAlert(&al, opts)
	}
}
