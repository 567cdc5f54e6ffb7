package hecfake

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"strconv"
	"testing"
)

// TestNextEventMatchesDecoder checks the scanner against json.Decoder on
// streams of events, good and bad.
func TestNextEventMatchesDecoder(t *testing.T) {
	for _, in := range []string{
		`{"event":{"a":1},"time":"12.5","host":"h","fields":{"castellan_id":"x","l":["a","b"]}}{"event":"s"}`,
		` {"Event":1, "HOST":null, "index":"i\u00e9"} ` + "\n" + `{"event":[1,2]}`,
		`{"event":1,"host":5}`,
		`{"event":1,"fields":[]}`,
		`{"event":1,"fields":{"a":1,"b":[1],"c":{"d":"e"}}}`,
		`{"event":1,"fields":null}`,
		`{"event":1}[1]`,
		`{"event":1}"str"`,
		`{"event":1}{"event":`,
		`{"event":1}x`,
		`{"event":"caf\xff","source":"a\"b\\c"}`,
		`{}`,
		`{"event":null,"time":null}`,
		`{"fields":{"a":"b"},"fields":{"c":"d"},"event":1}`,
	} {
		dec := json.NewDecoder(bytes.NewReader([]byte(in)))
		at := 0
		for i := 0; ; i++ {
			var want, got wireEvent
			werr := dec.Decode(&want)
			end, gerr := nextEvent([]byte(in), at, &got)
			if werr == io.EOF {
				if end >= 0 {
					t.Errorf("%q #%d: decoder ended, scanner did not", in, i)
				}
				break
			}
			if (werr != nil) != (gerr != nil) || end < 0 {
				t.Errorf("%q #%d: decoder err %v, scanner err %v end %d", in, i, werr, gerr, end)
				break
			}
			if werr != nil {
				break
			}
			if !reflect.DeepEqual(want, got) {
				t.Errorf("%q #%d:\n got %+v\nwant %+v", in, i, got, want)
			}
			at = end
		}
	}
}

// TestParseTimeMatchesDecoding checks parseTime's direct paths against
// encoding/json's.
func TestParseTimeMatchesDecoding(t *testing.T) {
	old := func(raw json.RawMessage) (float64, error) {
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			return strconv.ParseFloat(s, 64)
		}
		var f float64
		err := json.Unmarshal(raw, &f)
		return f, err
	}
	for _, raw := range []string{`1700000000.123`, `-1`, `0`, `1e3`, `1e400`, `"1700000000.5"`, `"abc"`, `""`, `"\u0031"`, `"Inf"`, `null`, `true`, `[1]`, `{}`, `01`, `"0x10"`} {
		wf, werr := old(json.RawMessage(raw))
		gf, gerr := parseTime(json.RawMessage(raw))
		if (werr != nil) != (gerr != nil) || (werr == nil && wf != gf) {
			t.Errorf("%s: got %v %v, want %v %v", raw, gf, gerr, wf, werr)
		}
	}
}
