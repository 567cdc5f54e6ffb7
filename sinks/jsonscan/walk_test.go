package jsonscan

import (
	"bytes"
	"encoding/json"
	"testing"
)

// walkCases are valid objects and arrays for the walkers.
var walkCases = []string{
	`{}`, `{ }`, `[]`, `[ ]`, `{"a":1}`, ` {"a" : [ 1 , {"x":"]}"} ] , "b\"}":"c" } `,
	`{"k":"\\","k2":"\u00e9","k3":"caf` + "\xc3\xa9" + `","k4":"bad` + "\xff" + `"}`,
	`[1,"two",{"three":3},[4],true,null,-5.5e3]`, `{"a":{"b":{"c":[]}},"d":null}`,
}

// TestWalkMatchesDecoder checks that Object and Array split values into
// the members and elements encoding/json decodes, and Unquote's keys.
func TestWalkMatchesDecoder(t *testing.T) {
	for _, c := range walkCases {
		b := bytes.TrimLeft([]byte(c), " ")
		checkWalk(t, b)
	}
}

func checkWalk(t *testing.T, b []byte) {
	t.Helper()
	switch b[0] {
	case '{':
		var want []json.RawMessage // keys then values, in order
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.Token()
		for dec.More() {
			tok, _ := dec.Token()
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				t.Fatalf("%q: %v", b, err)
			}
			k, _ := json.Marshal(tok)
			want = append(want, k, v)
		}
		m := Object(b)
		var n int
		for {
			rawKey, val, ok := m.Next()
			if !ok {
				break
			}
			key, err := Unquote(rawKey)
			var wantKey string
			json.Unmarshal(want[n], &wantKey)
			if err != nil || key != wantKey || !bytes.Equal(val, want[n+1]) {
				t.Errorf("%q member %d: got %q %s (%v), want %q %s", b, n/2, key, val, err, wantKey, want[n+1])
			}
			n += 2
		}
		if n != len(want) {
			t.Errorf("%q: %d members, want %d", b, n/2, len(want)/2)
		}
	case '[':
		var want []json.RawMessage
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("%q: %v", b, err)
		}
		e := Array(b)
		var n int
		for {
			val, ok := e.Next()
			if !ok {
				break
			}
			if n >= len(want) || !bytes.Equal(val, want[n]) {
				t.Errorf("%q element %d: got %s", b, n, val)
			}
			n++
		}
		if n != len(want) {
			t.Errorf("%q: %d elements, want %d", b, n, len(want))
		}
	}
}

// FuzzWalk checks the walkers and Unquote on every valid object or array.
func FuzzWalk(f *testing.F) {
	for _, c := range walkCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		b = b[SkipSpace(b, 0):]
		if !Valid(b) || (b[0] != '{' && b[0] != '[') {
			return
		}
		checkWalk(t, b)
	})
}

// TestUnquoteMatchesUnmarshal checks Unquote against json.Unmarshal.
func TestUnquoteMatchesUnmarshal(t *testing.T) {
	for _, c := range []string{`""`, `"plain"`, `"caf` + "\xc3\xa9" + `"`, `"bad` + "\xff" + `"`, `"\u00e9\n\"\\\/"`, `"\ud800"`} {
		var want string
		werr := json.Unmarshal([]byte(c), &want)
		got, gerr := Unquote([]byte(c))
		if got != want || (werr != nil) != (gerr != nil) {
			t.Errorf("Unquote(%q) = %q, %v; want %q, %v", c, got, gerr, want, werr)
		}
	}
}

// TestEndValueTruncated checks that EndValue and EndString report -1, not
// an offset, when the input ends inside a value (splunk walks records it
// has not validated).
func TestEndValueTruncated(t *testing.T) {
	for _, c := range []string{``, `"abc`, `"ab\"`, `{"a":1`, `[1,[2]`, `{"a":"}`, `["\\\"]`} {
		if got := EndValue([]byte(c), 0); got != -1 {
			t.Errorf("EndValue(%q) = %d, want -1", c, got)
		}
	}
	for c, want := range map[string]int{`"a"x`: 3, `"\""`: 4, `{"a":[1,"]"]},`: 13, `123,`: 3, `true`: 4, `[]]`: 2} {
		if got := EndValue([]byte(c), 0); got != want {
			t.Errorf("EndValue(%q) = %d, want %d", c, got, want)
		}
	}
}
