package jsonscan

import (
	"encoding/json"
	"strings"
	"testing"
)

var validJSONCases = []string{
	``, ` `, `{}`, `[]`, `""`, `0`, `-0`, `01`, `-`, `1.`, `1.5`, `1e`, `1e+`, `1E-7`, `.5`, `+1`, `1.5e10`,
	`true`, `tru`, `false`, `null`, `nul`, `truex`, `{"a":1}`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `{"a":}`,
	`[1,]`, `[,1]`, `[1 2]`, `[1,[2,[3]]]`, `{"a":{"b":[true,false,null]}}`, ` {"a" : [ 1 , 2 ] } `,
	`"\u00e9\n\t\"\\\/"`, `"\u00g9"`, `"\u00e"`, `"\x"`, "\"a\x01b\"", "\"tab\there\"", "\"caf\xc3\xa9\"", "\"bad \xff\"",
	`"unterminated`, `{"a":1}{}`, `{"a":1} x`, `[1]]`, `{"a":"}"}`, `{"k":"\\"}`, `{"k":"\\\""}`,
	`{"@timestamp":"2025-01-01T00:00:00Z","event":{"kind":"alert","severity":73,"risk_score":73.5}}`,
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000), strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
}

func TestValidJSONMatchesEncodingJSON(t *testing.T) {
	for _, c := range validJSONCases {
		if got, want := Valid([]byte(c)), json.Valid([]byte(c)); got != want {
			t.Errorf("Valid(%.60q) = %v; encoding/json says %v", c, got, want)
		}
	}
}

func FuzzValid(f *testing.F) {
	for _, c := range validJSONCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := Valid(b), json.Valid(b); got != want {
			t.Errorf("Valid(%q) = %v; encoding/json says %v", b, got, want)
		}
	})
}

func BenchmarkValid(b *testing.B) {
	doc := []byte(`{"@timestamp":"2025-01-01T09:00:00Z","message":"Kerberoasting by CONTOSO\\user0000 (#0)","ecs":{"version":"8.17.0"},"event":{"kind":"alert","category":["intrusion_detection"],"severity":21,"risk_score":21}}`)
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if !Valid(doc) {
			b.Fatal("invalid")
		}
	}
}
