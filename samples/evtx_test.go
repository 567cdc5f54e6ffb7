package samples

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/mappings/windows"
	velocidex "www.velocidex.com/golang/evtx"
)

// readEVTX reads an EVTX file with Velocidex (independent of the project's writer and
// reader), rendering values as Windows renders them in XML.
func readEVTX(t *testing.T, path string) []windows.Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunks, err := velocidex.GetChunks(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []windows.Record
	for _, ch := range chunks {
		recs, err := ch.Parse(0)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, r := range recs {
			out = append(out, velocidexRecord(t, r))
		}
	}
	return out
}

func velocidexRecord(t *testing.T, r *velocidex.EventRecord) windows.Record {
	t.Helper()
	js, err := json.Marshal(r.Event)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var doc struct {
		Event struct {
			System struct {
				Provider      struct{ Name string }
				EventID       json.RawMessage
				EventRecordID uint64
				Channel       string
				Computer      string
			}
			EventData map[string]any
			UserData  map[string]map[string]any
		}
	}
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("%v: %s", err, js)
	}
	s := doc.Event.System
	var id struct{ Value int }
	if err := json.Unmarshal(s.EventID, &id); err != nil {
		if err := json.Unmarshal(s.EventID, &id.Value); err != nil {
			t.Fatalf("EventID %s", s.EventID)
		}
	}
	const epochDiff = 11644473600
	ft := r.Header.FileTime
	rec := windows.Record{EventID: id.Value, Provider: s.Provider.Name, Channel: s.Channel,
		Computer: s.Computer, RecordID: s.EventRecordID, Data: map[string]string{},
		Time: time.Unix(int64(ft/10_000_000)-epochDiff, int64(ft%10_000_000)*100).UTC()}
	if rec.RecordID != r.Header.RecordID {
		t.Fatalf("EventRecordID %d, record header %d", rec.RecordID, r.Header.RecordID)
	}
	for name, fields := range doc.Event.UserData {
		rec.Data["xml_name"] = name // as Winlogbeat names the UserData element
		for k, v := range fields {
			if k != "xmlns" {
				rec.Data[k] = renderValue(t, v)
			}
		}
	}
	items := []any{doc.Event.EventData["Data"]}
	if arr, ok := items[0].([]any); ok {
		items = arr
	}
	for _, it := range items {
		if m, ok := it.(map[string]any); ok {
			rec.Data[m["Name"].(string)] = renderValue(t, m["Value"])
		}
	}
	return rec
}

// renderValue renders HexInt32/HexInt64 (numbers in Velocidex's output) as 0x… and
// GUIDs (strings without braces in Velocidex's output) as {…}, as Windows does.
func renderValue(t *testing.T, v any) string {
	switch x := v.(type) {
	case string:
		if len(x) == 36 && strings.Count(x, "-") == 4 && strings.ToUpper(x) == x {
			return "{" + x + "}"
		}
		return x
	case json.Number:
		n, err := strconv.ParseUint(x.String(), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("0x%x", n)
	case nil:
		return ""
	}
	t.Fatalf("value %v (%T)", v, v)
	return ""
}

// readJSONRecords decodes a JSON-lines file with the project's mappings/windows.DecodeJSON.
func readJSONRecords(t *testing.T, path string) []windows.Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []windows.Record
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		r, err := windows.DecodeJSON(sc.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		r.Data = maps.Clone(r.Data) // DecodeJSON's strings share the line buffer
		for k, v := range r.Data {
			r.Data[strings.Clone(k)] = strings.Clone(v)
		}
		r.Provider, r.Channel, r.Computer = strings.Clone(r.Provider), strings.Clone(r.Channel), strings.Clone(r.Computer)
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestEVTXMatchesJSON: the EVTX and JSON outputs of one seed hold the same records.
func TestEVTXMatchesJSON(t *testing.T) {
	jdir, edir := t.TempDir(), t.TempDir()
	jm, err := Generate(Options{Seed: 1, OutDir: jdir})
	if err != nil {
		t.Fatal(err)
	}
	em, err := Generate(Options{Seed: 1, OutDir: edir, Format: OutputEVTX})
	if err != nil {
		t.Fatal(err)
	}
	if len(em.Files) != 3 {
		t.Fatalf("files %+v", em.Files)
	}
	for i, f := range em.Files {
		jf := jm.Files[i]
		want := strings.TrimSuffix(jf.Path, ".jsonl") + ".evtx"
		if f.Path != want || f.Format != FormatEVTX || f.Host != jf.Host || f.Events != jf.Events {
			t.Errorf("EVTX file %+v, JSON file %+v", f, jf)
		}
		jrecs := readJSONRecords(t, filepath.Join(jdir, jf.Path))
		erecs := readEVTX(t, filepath.Join(edir, f.Path))
		if len(jrecs) != len(erecs) || len(erecs) != f.Events {
			t.Fatalf("%s: %d JSON records, %d EVTX records, manifest %d", f.Path, len(jrecs), len(erecs), f.Events)
		}
		for k := range jrecs {
			j, e := jrecs[k], erecs[k]
			if _, ok := j.Data["xml_name"]; !ok && e.Data["xml_name"] != "" {
				// NXLog does not name the UserData element; EVTX and Winlogbeat do.
				if e.EventID != 1102 || e.Data["xml_name"] != "LogFileCleared" {
					t.Fatalf("%s record %d: user data %q", f.Path, k, e.Data["xml_name"])
				}
				delete(e.Data, "xml_name")
			}
			if j.EventID != e.EventID || j.RecordID != e.RecordID || !j.Time.Equal(e.Time) ||
				j.Provider != e.Provider || j.Channel != e.Channel || j.Computer != e.Computer || !maps.Equal(j.Data, e.Data) {
				t.Fatalf("%s record %d differs:\nJSON %+v\nEVTX %+v", f.Path, k, j, e)
			}
		}
	}
	em.Files, jm.Files = nil, nil
	a, _ := json.Marshal(em)
	b, _ := json.Marshal(jm)
	if !bytes.Equal(a, b) {
		t.Errorf("manifests differ beyond the files:\n%s\n%s", a, b)
	}
}

func TestEVTXDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, dir := range []string{a, b} {
		if _, err := Generate(Options{Seed: 3, OutDir: dir, Format: OutputEVTX, Size: 12 << 20}); err != nil {
			t.Fatal(err)
		}
	}
	files, _ := os.ReadDir(a)
	if len(files) != 5 {
		t.Fatalf("%d files", len(files))
	}
	for _, f := range files {
		if f.IsDir() {
			continue // entra/: the Graph sign-ins, JSON whatever the format
		}
		x, _ := os.ReadFile(filepath.Join(a, f.Name()))
		y, _ := os.ReadFile(filepath.Join(b, f.Name()))
		if len(x) == 0 || !bytes.Equal(x, y) {
			t.Errorf("%s differs between runs", f.Name())
		}
	}
}

// TestEVTXSize: the files together reach Size and overshoot by less than one chunk; the
// benign days follow with shifted times and continuing record ids.
func TestEVTXSize(t *testing.T) {
	one := t.TempDir()
	m1, err := Generate(Options{Seed: 4, OutDir: one, Format: OutputEVTX})
	if err != nil {
		t.Fatal(err)
	}
	oneDay := dirSize(t, one, m1)
	for _, size := range []int64{oneDay / 2, oneDay + 5<<20 + 12345} {
		dir := t.TempDir()
		m, err := Generate(Options{Seed: 4, OutDir: dir, Format: OutputEVTX, Size: size})
		if err != nil {
			t.Fatal(err)
		}
		got := dirSize(t, dir, m)
		if size < oneDay {
			if got != oneDay {
				t.Errorf("Size %d below one day: %d bytes, want the full day (%d)", size, got, oneDay)
			}
			continue
		}
		if got < size || got >= size+65536 {
			t.Errorf("Size %d: files hold %d bytes", size, got)
		}
		// The last records of DC01: ids continue from the first day, times a day or more later.
		recs := readEVTX(t, filepath.Join(dir, m.Files[0].Path))
		if len(recs) != m.Files[0].Events || m.Files[0].Events <= m1.Files[0].Events {
			t.Fatalf("%d records, manifest %d, one day %d", len(recs), m.Files[0].Events, m1.Files[0].Events)
		}
		first := recs[0]
		for i, r := range recs {
			if r.RecordID != first.RecordID+uint64(i) || (i > 0 && r.Time.Before(recs[i-1].Time)) {
				t.Fatalf("record %d: id %d at %v after %d at %v", i, r.RecordID, r.Time, recs[i-1].RecordID, recs[i-1].Time)
			}
		}
		day1 := recs[m1.Files[0].Events:]
		if d := day1[0].Time.Sub(first.Time.Truncate(24 * time.Hour)); d < 24*time.Hour || d >= 48*time.Hour {
			t.Errorf("second day starts at %v", day1[0].Time)
		}
		for _, r := range day1 {
			if r.Data["IpAddress"] == "::ffff:10.1.66.6" || r.Data["IpAddress"] == "10.1.66.6" {
				t.Fatalf("repeated day holds attacker activity: %+v", r)
			}
		}
	}
}

// dirSize sums the manifest's files and checks each is a whole number of chunks.
func dirSize(t *testing.T, dir string, m Manifest) int64 {
	t.Helper()
	var n int64
	for _, f := range m.Files {
		st, err := os.Stat(filepath.Join(dir, f.Path))
		if err != nil {
			t.Fatal(err)
		}
		if (st.Size()-4096)%65536 != 0 {
			t.Errorf("%s: %d bytes", f.Path, st.Size())
		}
		head := make([]byte, 4096)
		fh, _ := os.Open(filepath.Join(dir, f.Path))
		_, _ = fh.Read(head)
		fh.Close()
		if chunks := int64(binary.LittleEndian.Uint16(head[42:])); 4096+chunks*65536 != st.Size() {
			t.Errorf("%s: header says %d chunks, file is %d bytes", f.Path, chunks, st.Size())
		}
		n += st.Size()
	}
	return n
}

func TestJSONSize(t *testing.T) {
	dir := t.TempDir()
	const size = 9 << 20
	m, err := Generate(Options{Seed: 5, OutDir: dir, Size: size})
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, f := range m.Files {
		st, err := os.Stat(filepath.Join(dir, f.Path))
		if err != nil {
			t.Fatal(err)
		}
		n += st.Size()
	}
	if n < size || n > size+4096 {
		t.Errorf("JSON files hold %d bytes, want %d and at most one line more", n, size)
	}
	recs := readOutput(t, dir, m)
	if last := recs[len(recs)-1]; !last.Time.After(time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("last event at %v, want on a later day", last.Time)
	}
}

func TestGenerateFormatErrors(t *testing.T) {
	if _, err := Generate(Options{OutDir: t.TempDir(), Format: "xml"}); err == nil || !strings.Contains(err.Error(), "unknown output format") {
		t.Errorf("unknown format: %v", err)
	}
	if _, err := Generate(Options{OutDir: t.TempDir(), Size: -1}); err == nil {
		t.Error("negative size accepted")
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"1GB": 1e9, "1gb": 1e9, "1 GB": 1e9, "500MB": 500e6, "1.5GB": 1.5e9, "64KB": 64e3,
		"1GiB": 1 << 30, "2MiB": 2 << 20, "4KiB": 4096, "4096": 4096, "10B": 10, "0": 0, "1TB": 1e12,
	} {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "GB", "-1GB", "1XB", "1e3", "abc", "1.2.3MB", "+5MB", "99999999999TB", "0x10"} {
		if got, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", in, got)
		}
	}
}

// BenchmarkGenerateEVTX generates CASTELLAN_BENCH_SIZE (default 64MiB, ParseSize syntax) of
// EVTX per iteration and reports the throughput.
func BenchmarkGenerateEVTX(b *testing.B) {
	size := int64(64 << 20)
	if s := os.Getenv("CASTELLAN_BENCH_SIZE"); s != "" {
		n, err := ParseSize(s)
		if err != nil {
			b.Fatal(err)
		}
		size = n
	}
	dir := b.TempDir()
	b.SetBytes(size)
	for b.Loop() {
		if _, err := Generate(Options{Seed: 1, OutDir: dir, Format: OutputEVTX, Size: size}); err != nil {
			b.Fatal(err)
		}
	}
}
