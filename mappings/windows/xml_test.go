package windows

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// checkGolden compares got with the golden file, or rewrites it with -update.
func checkGolden(t *testing.T, golden string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s; run go test -update and review the diff\n%s", golden, got)
	}
}

func marshalEvent(t *testing.T, ev schema.Event) []byte {
	t.Helper()
	b, err := json.MarshalIndent(ev, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func xmlSamples(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/xml/*.xml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no XML testdata: %v", err)
	}
	return files
}

func TestXMLGolden(t *testing.T) {
	for _, f := range xmlSamples(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := DecodeXMLEvent(b, "winxml")
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, strings.TrimSuffix(f, ".xml")+".golden.json", marshalEvent(t, ev))
		})
	}
}

// TestXMLMatchesJSON: an event read from XML normalizes exactly like the same
// event forwarded as Winlogbeat JSON (testdata/xml/<name>.json), id included.
func TestXMLMatchesJSON(t *testing.T) {
	for _, f := range xmlSamples(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			x, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			j, err := os.ReadFile(strings.TrimSuffix(f, ".xml") + ".json")
			if err != nil {
				t.Fatal(err)
			}
			fromXML, err := DecodeAny(x, "winjson")
			if err != nil {
				t.Fatal(err)
			}
			fromJSON, err := DecodeAny(j, "winjson")
			if err != nil {
				t.Fatal(err)
			}
			a, b := marshalEvent(t, fromXML), marshalEvent(t, fromJSON)
			if !bytes.Equal(a, b) {
				t.Errorf("XML and JSON differ:\nxml  %s\njson %s", a, b)
			}
			if fromXML.Event.Kind == schema.KindOther || fromXML.Event.RecordID == "" || fromXML.Timestamp.IsZero() {
				t.Errorf("not normalized: %s", a)
			}
		})
	}
}

func TestDecodeXMLDetails(t *testing.T) {
	const ev = `<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System>` +
		`<Provider Name="Service Control Manager" EventSourceName="Service Control Manager"/>` +
		`<EventID Qualifiers="16384">7045</EventID><TimeCreated SystemTime="2024-03-01T10:00:00.1234567Z"/>` +
		`<EventRecordID>42</EventRecordID><Channel>System</Channel><Computer>WS-042.corp.local</Computer></System>` +
		`<EventData><Data>first</Data><Data>a &lt;b&gt; &amp; &#x9;c</Data><Data Name="ServiceName">PSEXESVC</Data>` +
		`<Data Name="Empty"/><Binary>0A0B</Binary></EventData>` +
		`<RenderingInfo Culture="en-US"><Message>m</Message><Channel>Other</Channel><Provider>p</Provider></RenderingInfo></Event>`
	r, err := DecodeXML([]byte(ev))
	if err != nil {
		t.Fatal(err)
	}
	if r.EventID != 7045 || r.Provider != ProviderSCM || r.Channel != "System" || r.Computer != "WS-042.corp.local" || r.RecordID != 42 {
		t.Errorf("system = %+v", r)
	}
	if got := r.Time.Format("2006-01-02T15:04:05.0000000Z"); got != "2024-03-01T10:00:00.1234567Z" {
		t.Errorf("time = %s", got)
	}
	want := map[string]string{"Data1": "first", "Data2": "a <b> & \tc", "ServiceName": "PSEXESVC", "Empty": "", "Binary": "0A0B"}
	if len(r.Data) != len(want) {
		t.Errorf("data = %q, want %q", r.Data, want)
	}
	for k, v := range want {
		if got, ok := r.Data[k]; !ok || got != v {
			t.Errorf("data[%s] = %q, want %q", k, got, v)
		}
	}
	if e := Normalize(&r, "winxml"); e.Event.Kind != schema.KindServiceInstall || e.Service.Name != "PSEXESVC" {
		t.Errorf("normalized = %+v", e.Event)
	}

	// UserData: the leaves of its child, at any depth.
	r, err = DecodeXML([]byte(`<Event><System><EventID>104</EventID></System><UserData><LogFileCleared xmlns="x">` +
		`<SubjectUserName>bob</SubjectUserName><Channel>Security</Channel><Nested><Leaf>v</Leaf></Nested>` +
		`</LogFileCleared></UserData></Event>`))
	if err != nil {
		t.Fatal(err)
	}
	if r.Data["SubjectUserName"] != "bob" || r.Data["Channel"] != "Security" || r.Data["Leaf"] != "v" || len(r.Data) != 3 {
		t.Errorf("user data = %q", r.Data)
	}
}

func TestDecodeXMLMalformed(t *testing.T) {
	huge := []byte(`<Event><System><EventID>1</EventID></System><EventData><Data Name="x">` +
		strings.Repeat("a", MaxLineBytes) + `</Data></EventData></Event>`)
	deep := []byte(`<Event><System><EventID>1</EventID></System><UserData>` + strings.Repeat("<a>", 40) +
		strings.Repeat("</a>", 40) + `</UserData></Event>`)
	for name, in := range map[string]string{
		"empty":          "",
		"space":          "  \n",
		"json":           `{"EventID":4624}`,
		"text":           "EventID=4624",
		"other root":     `<Events><Event><System><EventID>1</EventID></System></Event></Events>`,
		"no event id":    `<Event><System><Channel>Security</Channel></System></Event>`,
		"empty event id": `<Event><System><EventID> </EventID></System></Event>`,
		"bad event id":   `<Event><System><EventID>abc</EventID></System></Event>`,
		"huge event id":  `<Event><System><EventID>70000</EventID></System></Event>`,
		"bad record id":  `<Event><System><EventID>1</EventID><EventRecordID>-1</EventRecordID></System></Event>`,
		"element in id":  `<Event><System><EventID><b>1</b></EventID></System></Event>`,
		"truncated":      `<Event><System><EventID>4624</EventID></System><EventData><Data Name="a">`,
		"mismatched":     `<Event><System><EventID>1</EventID></Sys></Event>`,
		"trailing":       `<Event><System><EventID>1</EventID></System></Event><Event/>`,
		"trailing text":  `<Event><System><EventID>1</EventID></System></Event>junk`,
		"doctype":        `<!DOCTYPE Event [<!ENTITY x "y">]><Event><System><EventID>1</EventID></System></Event>`,
		"xxe": `<?xml version="1.0"?><!DOCTYPE e [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` +
			`<Event><System><EventID>1</EventID></System><EventData><Data Name="a">&xxe;</Data></EventData></Event>`,
		"billion laughs": `<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>` +
			`<Event><System><EventID>1</EventID></System><EventData><Data Name="a">&b;</Data></EventData></Event>`,
		"undefined entity": `<Event><System><EventID>1</EventID></System><EventData><Data Name="a">&b;</Data></EventData></Event>`,
		"utf-16 prolog":    `<?xml version="1.0" encoding="UTF-16"?><Event><System><EventID>1</EventID></System></Event>`,
		"bad utf-8":        "<Event><System><EventID>1</EventID></System><EventData><Data Name=\"a\">\xff</Data></EventData></Event>",
		"too deep":         string(deep),
		"over 1 MiB":       string(huge),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := DecodeXML([]byte(in)); !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			if strings.HasPrefix(in, "{") {
				return // DecodeAny reads it as JSON
			}
			if _, err := DecodeAny([]byte(in), "winxml"); !errors.Is(err, ErrMalformed) {
				t.Fatalf("DecodeAny err = %v", err)
			}
		})
	}
}

func TestDecodeAny(t *testing.T) {
	j := readLines(t, "testdata/winlogbeat.jsonl")[0]
	if ev, err := DecodeAny(append([]byte("\n "), j...), "x"); err != nil || ev.Event.Code != "4624" {
		t.Errorf("json: %v %v", ev.Event.Code, err)
	}
	x := "\xEF\xBB\xBF\r\n<Event><System><EventID>4634</EventID></System></Event>\n"
	if ev, err := DecodeAny([]byte(x), "x"); err != nil || ev.Event.Action != "logged-off" {
		t.Errorf("xml with BOM: %v %v", ev.Event, err)
	}
}

// splitAll runs SplitXMLEvents over in, read one byte at a time so every
// event arrives in pieces.
func splitAll(t *testing.T, in string) []string {
	t.Helper()
	sc := bufio.NewScanner(iotest.OneByteReader(strings.NewReader(in)))
	sc.Buffer(make([]byte, 0, 16), 2*MaxLineBytes)
	sc.Split(SplitXMLEvents)
	var out []string
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSplitXMLEvents(t *testing.T) {
	e1 := `<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><EventID>4624</EventID></System></Event>`
	e2 := `<Event><System><EventID>4634</EventID><Provider Name="a>b" Guid='/>'/></System><EventData>` +
		`<Data Name="x"><![CDATA[</Event>]]></Data><!-- </Event> --></EventData></Event >`
	e3 := `<Event/>`
	tests := []struct {
		name, in string
		want     []string
	}{
		{"wevtutil lines", e1 + "\r\n" + e2 + "\n" + e1 + "\n", []string{e1, e2, e1}},
		{"no separator", e1 + e1, []string{e1, e1}},
		{"spaced end tag", "<Event><System><EventID>1</EventID></System></Event \n>\n" + e1,
			[]string{"<Event><System><EventID>1</EventID></System></Event \n>", e1}},
		{"document", "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- export -->\n<Events>\n" + e1 + "\n" + e3 + "\n</Events>\n",
			[]string{e1, e3}},
		{"junk between", e1 + "\nnot xml\n" + e1, []string{e1, "not xml\n", e1}},
		{"unknown element", "<Foo>bar</Foo>" + e1, []string{"<Foo>bar</Foo>", e1}},
		{"incomplete at EOF", e1 + "\n" + e1[:40], []string{e1, e1[:40]}},
		{"tail of an event", "Name='a'>x</Data></EventData></Event>\n" + e1, []string{e1}},
		{"empty", " \n\t", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := splitAll(t, tt.in)
			if strings.Join(got, "\x00") != strings.Join(tt.want, "\x00") {
				t.Errorf("tokens\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
	// Each complete token decodes.
	for _, tok := range splitAll(t, e1+"\n"+e2) {
		if _, err := DecodeXML([]byte(tok)); err != nil {
			t.Errorf("%q: %v", tok, err)
		}
	}
}

func TestSplitXMLEventsOversize(t *testing.T) {
	e1 := `<Event><System><EventID>4624</EventID></System></Event>`
	big := `<Event><System><EventID>1</EventID></System><EventData><Data Name="x">` +
		strings.Repeat("a", MaxLineBytes+100) + `</Data></EventData></Event>`
	sc := bufio.NewScanner(strings.NewReader(e1 + "\n" + big + "\n" + e1 + "\n"))
	sc.Buffer(nil, 2*MaxLineBytes)
	sc.Split(SplitXMLEvents)
	var ok, bad int
	for sc.Scan() {
		if len(sc.Bytes()) > MaxLineBytes+1 {
			t.Fatalf("token of %d bytes", len(sc.Bytes()))
		}
		if _, err := DecodeAny(sc.Bytes(), "x"); err != nil {
			bad++
		} else {
			ok++
		}
	}
	if sc.Err() != nil || ok != 2 || bad != 1 {
		t.Errorf("ok %d bad %d err %v, want 2 1 nil", ok, bad, sc.Err())
	}
}

func FuzzDecodeXML(f *testing.F) {
	for _, p := range []string{"4624", "1102", "4768-rendered"} {
		b, err := os.ReadFile("testdata/xml/" + p + ".xml")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`<Event><System><EventID>4662</EventID></System><EventData><Data Name="Properties">{1131f6ad-9c07-11d1-f79f-00c04fc2dcd2}</Data></EventData></Event>`))
	f.Add([]byte(`<!DOCTYPE x [<!ENTITY a "b">]><Event/>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := DecodeXMLEvent(data, "fuzz")
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
		} else {
			if ev.ID == "" || ev.Event.Kind == "" {
				t.Fatalf("event without id or kind: %+v", ev)
			}
			if _, err := json.Marshal(ev); err != nil {
				t.Fatalf("marshal: %v", err)
			}
		}
		// The splitter never fails and never yields more than it was given.
		for n := 0; n < len(data); {
			adv, tok, err := SplitXMLEvents(data[n:], true)
			if err != nil || adv < 0 || adv > len(data)-n || len(tok) > adv {
				t.Fatalf("split(%q) = %d, %q, %v", data[n:], adv, tok, err)
			}
			if adv == 0 {
				break
			}
			n += adv
		}
	})
}
