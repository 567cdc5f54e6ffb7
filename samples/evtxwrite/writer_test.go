package evtxwrite_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/mappings/windows"
	"github.com/castellan-itdr/castellan/samples/evtxwrite"
	"github.com/castellan-itdr/castellan/samples/scenario"
)

var t0 = time.Date(2026, 3, 2, 9, 30, 0, 123_000_000, time.UTC)

// writeFile writes events to a temporary file and returns its bytes.
func writeFile(t testing.TB, o evtxwrite.Options, write func(w *evtxwrite.Writer) error) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "x.evtx")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := evtxwrite.NewWriterOptions(f, o)
	if err := write(w); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(data)) != w.Size() {
		t.Errorf("file is %d bytes, Size() says %d", len(data), w.Size())
	}
	return data
}

// compare checks that got holds exactly want, field for field.
func compare(t testing.TB, want []windows.Record, got []readBack) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("read %d records, wrote %d", len(got), len(want))
	}
	bad := 0
	for i, w := range want {
		g := got[i]
		diff := ""
		switch {
		case g.EventID != w.EventID:
			diff = fmt.Sprintf("EventID %d", g.EventID)
		case g.RecordID != w.RecordID:
			diff = fmt.Sprintf("RecordID %d", g.RecordID)
		case !g.Time.Equal(w.Time) || !sameTime(g.TimeSecs, w.Time):
			diff = fmt.Sprintf("time %v / SystemTime %f", g.Time, g.TimeSecs)
		case g.Provider != w.Provider || g.Channel != w.Channel || g.Computer != w.Computer:
			diff = fmt.Sprintf("provider %q channel %q computer %q", g.Provider, g.Channel, g.Computer)
		case !maps.Equal(g.Data, w.Data):
			for _, k := range slices.Sorted(maps.Keys(w.Data)) {
				if gv, ok := g.Data[k]; !ok || gv != w.Data[k] {
					diff += fmt.Sprintf(" %s=%q (want %q, present %v)", k, gv, w.Data[k], ok)
				}
			}
			if len(g.Data) != len(w.Data) {
				diff += fmt.Sprintf(" %d fields, want %d", len(g.Data), len(w.Data))
			}
		}
		if diff != "" {
			t.Errorf("record %d (event %d): %s", w.RecordID, w.EventID, diff)
			if bad++; bad > 10 {
				t.FailNow()
			}
		}
	}
}

// scenarioEvents are the events of one scenario day per log file, sorted and numbered
// as the generator writes them.
func scenarioEvents(t testing.TB, seed int64) map[string][]evtxwrite.Event {
	t.Helper()
	res, err := scenario.Build("default", seed, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]scenario.LogFile{}
	for _, f := range res.Files {
		files[f.Name] = f
	}
	out := map[string][]evtxwrite.Event{}
	for _, e := range res.Events {
		f := files[e.File]
		ev := evtxwrite.Event{EventID: e.ID, Provider: e.Provider, Channel: e.Channel,
			Computer: f.Computer, Time: e.Time, UserData: e.UserData}
		if e.UserData != "" {
			ev.UserDataNS = evtxwrite.LogClearedNamespace
		}
		for _, fd := range e.Data {
			ev.Fields = append(ev.Fields, evtxwrite.Field{Name: fd.Name, Value: fd.Value})
		}
		out[e.File] = append(out[e.File], evtxwrite.Defaults(ev, e.Failure))
	}
	for name, evs := range out {
		slices.SortStableFunc(evs, func(a, b evtxwrite.Event) int { return a.Time.Compare(b.Time) })
		for i := range evs {
			evs[i].RecordID = uint64(files[name].RecordBase) + uint64(i)
		}
	}
	return out
}

func asRecord(e evtxwrite.Event) windows.Record {
	r := windows.Record{EventID: e.EventID, Provider: e.Provider, Channel: e.Channel,
		Computer: e.Computer, RecordID: e.RecordID, Time: e.Time, Data: map[string]string{}}
	for _, f := range e.Fields {
		r.Data[f.Name] = f.Value
	}
	return r
}

// TestScenarioRoundTrip writes every event shape the scenario generator produces and reads
// it back with Velocidex: identical ids, times, header fields and every field value.
func TestScenarioRoundTrip(t *testing.T) {
	ids := map[int]bool{}
	for name, evs := range scenarioEvents(t, 1) {
		t.Run(name, func(t *testing.T) {
			data := writeFile(t, evtxwrite.Options{}, func(w *evtxwrite.Writer) error {
				for _, e := range evs {
					if err := w.WriteEvent(e); err != nil {
						return err
					}
				}
				return nil
			})
			checkStructure(t, data, headerWant{})
			got := parseEVTX(t, data)
			want := make([]windows.Record, len(evs))
			for i, e := range evs {
				want[i] = asRecord(e)
				ids[e.EventID] = true
			}
			compare(t, want, got)
			for i, g := range got {
				if g.Keywords != evs[i].Keywords {
					t.Fatalf("record %d: keywords %#x, want %#x", g.RecordID, g.Keywords, evs[i].Keywords)
				}
				if (evs[i].UserData != "") != (g.UserData == evtxwrite.LogClearedElement) {
					t.Fatalf("record %d: user data %q", g.RecordID, g.UserData)
				}
			}
		})
	}
	for _, id := range []int{4624, 4625, 4662, 4720, 4722, 4724, 4728, 4732, 4738, 4756, 4768, 4769, 4771, 4776, 1102, 7036, 7045} {
		if !ids[id] {
			t.Errorf("scenario produced no event %d", id)
		}
	}
}

// edgeRecords are records with awkward values.
func edgeRecords() []windows.Record {
	long := strings.Repeat("x", 499) + "é"
	many := map[string]string{}
	for i := range 120 {
		many[fmt.Sprintf("Field%03d", i)] = fmt.Sprintf("value %d", i)
	}
	recs := []windows.Record{
		{EventID: 4624, Data: map[string]string{"TargetUserName": "", "IpAddress": "-", "Empty2": ""}},
		{EventID: 4625, Data: map[string]string{"TargetUserName": "Jürgen Müller", "WorkstationName": "工作站-01",
			"Emoji": "🔥 fire 🧯", "Quote": `a "quoted" <tag> & 'apos'`, "Ctl": "tab\there\r\nnext\x01"}},
		{EventID: 4769, Data: map[string]string{"ServiceName": long, "TargetUserName": strings.Repeat("ü", 500)}},
		{EventID: 4999, Data: many},
		{EventID: 4662, Data: map[string]string{}},
		{EventID: 4768, Data: map[string]string{
			"TargetSid": "S-1-5-21-3623811015-3361044348-30300820-1013", "Null": "S-1-0-0", "System": "S-1-5-18",
			"NotSID": "S-1-5-21-abc", "LeadingZero": "S-1-05-18", "Short": "S-1",
			"Status": "0x0", "Big": "0xffffffffffffffff", "Etype": "0x17", "TargetLogonId": "0x3e7",
			"Upper": "0xC000006D", "Padded": "0x0012", "Bare": "0x",
			"GUID": "{0BAD1DEA-1234-4ABC-8DEF-00C04FC2DCD2}", "lowerGUID": "{54849625-5478-4994-a5ba-3e3b0328c30d}",
			"Zero": "0", "Neg": "-1"}},
		{EventID: 1102, Provider: windows.ProviderEventlog, Data: map[string]string{
			"SubjectUserSid": "S-1-5-21-1-2-3-500", "SubjectUserName": "adm-x", "SubjectDomainName": "CORP",
			"SubjectLogonId": "0x1a2b3c"}},
		{EventID: 7045, Provider: windows.ProviderSCM, Channel: windows.ChannelSystem, Data: map[string]string{
			"ServiceName": "evil", "ImagePath": `C:\Windows\Temp\x.exe`}},
		{EventID: 65535, Provider: "Some-Custom-Provider", Channel: "Application", Computer: "", Data: map[string]string{"a": "b"}},
	}
	for i := range recs {
		r := &recs[i]
		r.Time = t0.Add(time.Duration(i) * 1234567 * time.Microsecond)
		if r.Provider == "" {
			r.Provider = windows.ProviderSecurity
		}
		if r.Channel == "" && r.Provider != "Some-Custom-Provider" {
			r.Channel = windows.ChannelSecurity
		}
		if r.Computer == "" && r.EventID != 65535 {
			r.Computer = "DC01.corp.castellan.test"
		}
	}
	return recs
}

func TestEdgeCasesRoundTrip(t *testing.T) {
	recs := edgeRecords()
	data := writeFile(t, evtxwrite.Options{}, func(w *evtxwrite.Writer) error {
		for _, r := range recs {
			if err := w.Write(r); err != nil {
				return err
			}
		}
		return nil
	})
	checkStructure(t, data, headerWant{})
	for i := range recs {
		recs[i].RecordID = uint64(i + 1) // assigned sequentially from 1
	}
	got := parseEVTX(t, data)
	compare(t, recs, got)
	if got[6].UserData != evtxwrite.LogClearedElement {
		t.Errorf("1102 read back with user data %q", got[6].UserData)
	}
	// Typed values are really typed: the SID, hex and GUID bytes are in the file, the
	// UTF-16 text is not.
	for _, s := range []string{"S-1-5-21-3623811015-3361044348-30300820-1013", "0xffffffffffffffff", "0BAD1DEA-1234-4ABC"} {
		if bytes.Contains(data, utf16le(s)) {
			t.Errorf("%s written as a string", s)
		}
	}
	for _, s := range []string{"S-1-5-21-abc", "0xC000006D", "0x0012", "54849625-5478-4994-a5ba"} {
		if !bytes.Contains(data, utf16le(s)) {
			t.Errorf("%s not written as a string", s)
		}
	}
}

func utf16le(s string) []byte {
	var b []byte
	for _, r := range s {
		b = append(b, byte(r), byte(r>>8))
	}
	return b
}

// manyEvents returns n scenario-shaped events cycling through the generator's shapes.
func manyEvents(t testing.TB, n int) []evtxwrite.Event {
	base := scenarioEvents(t, 2)[scenario.FileDC02]
	out := make([]evtxwrite.Event, n)
	for i := range out {
		e := base[i%len(base)]
		e.RecordID = uint64(1000 + i)
		e.Time = t0.Add(time.Duration(i) * time.Millisecond)
		out[i] = e
	}
	return out
}

func TestMultiChunk(t *testing.T) {
	evs := manyEvents(t, 600)
	writeAll := func(w *evtxwrite.Writer) error {
		for _, e := range evs {
			if err := w.WriteEvent(e); err != nil {
				return err
			}
		}
		return nil
	}
	data := writeFile(t, evtxwrite.Options{}, writeAll)
	n := checkStructure(t, data, headerWant{})
	if n <= 3 {
		t.Fatalf("%d chunks, want more than 3", n)
	}
	want := make([]windows.Record, len(evs))
	for i, e := range evs {
		want[i] = asRecord(e)
	}
	compare(t, want, parseEVTX(t, data))

	t.Run("plain writer", func(t *testing.T) {
		var buf bytes.Buffer
		w := evtxwrite.NewWriter(struct{ io.Writer }{&buf})
		if err := writeAll(w); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		plain := buf.Bytes()
		checkStructure(t, plain, headerWant{dirty: true, early: true})
		if !bytes.Equal(plain[4096:], data[4096:]) {
			t.Error("chunks differ between seekable and plain destinations")
		}
		compare(t, want, parseEVTX(t, plain))
	})
	t.Run("dirty option", func(t *testing.T) {
		dirty := writeFile(t, evtxwrite.Options{Dirty: true}, writeAll)
		checkStructure(t, dirty, headerWant{dirty: true, stale: true})
		if !bytes.Equal(dirty[4096:], data[4096:]) {
			t.Error("chunks differ with Options.Dirty")
		}
	})
}

func TestSingleChunkPlainWriterIsClean(t *testing.T) {
	var buf bytes.Buffer
	w := evtxwrite.NewWriter(struct{ io.Writer }{&buf})
	for _, r := range edgeRecords()[:3] {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if n := checkStructure(t, buf.Bytes(), headerWant{}); n != 1 {
		t.Fatalf("%d chunks", n)
	}
}

func TestEmptyFile(t *testing.T) {
	data := writeFile(t, evtxwrite.Options{}, func(*evtxwrite.Writer) error { return nil })
	if n := checkStructure(t, data, headerWant{}); n != 0 || len(parseEVTX(t, data)) != 0 {
		t.Fatalf("empty file: %d chunks", n)
	}
}

func TestDeterministic(t *testing.T) {
	evs := manyEvents(t, 300)
	write := func() []byte {
		return writeFile(t, evtxwrite.Options{}, func(w *evtxwrite.Writer) error {
			for _, e := range evs {
				if err := w.WriteEvent(e); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if !bytes.Equal(write(), write()) {
		t.Fatal("same events, different bytes")
	}
}

func TestErrors(t *testing.T) {
	w := evtxwrite.NewWriter(io.Discard)
	ok := windows.Record{EventID: 4624, RecordID: 10, Time: t0, Provider: windows.ProviderSecurity}
	if err := w.Write(ok); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ok); !errors.Is(err, evtxwrite.ErrRecordID) {
		t.Errorf("repeated record id: %v", err)
	}
	huge := ok
	huge.RecordID = 0
	huge.Data = map[string]string{}
	for i := range 3 {
		huge.Data[fmt.Sprint(i)] = strings.Repeat("y", 30000)
	}
	if err := w.Write(huge); !errors.Is(err, evtxwrite.ErrRecordTooLarge) {
		t.Errorf("oversized record: %v", err)
	}
	tooLong := ok
	tooLong.RecordID = 0
	tooLong.Data = map[string]string{"x": strings.Repeat("z", 40000)}
	if err := w.Write(tooLong); !errors.Is(err, evtxwrite.ErrInvalid) {
		t.Errorf("value over 32767 units: %v", err)
	}
	old := ok
	old.RecordID, old.Time = 0, time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := w.Write(old); !errors.Is(err, evtxwrite.ErrInvalid) {
		t.Errorf("time before 1601: %v", err)
	}
	next := ok
	next.RecordID = 0
	if err := w.Write(next); err != nil {
		t.Errorf("writer unusable after rejected records: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := w.Write(ok); !errors.Is(err, evtxwrite.ErrClosed) {
		t.Errorf("write after close: %v", err)
	}
}

func BenchmarkWriteEvent(b *testing.B) {
	evs := manyEvents(b, 4096)
	var n int64
	for _, e := range evs[:100] {
		for _, f := range e.Fields {
			n += int64(len(f.Value))
		}
	}
	b.SetBytes(n / 100)
	w := evtxwrite.NewWriter(io.Discard)
	i := 0
	for b.Loop() {
		e := evs[i%len(evs)]
		e.RecordID = 0
		if err := w.WriteEvent(e); err != nil {
			b.Fatal(err)
		}
		i++
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}
