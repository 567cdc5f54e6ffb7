package evtx

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/mappings/windows"
	velocidex "www.velocidex.com/golang/evtx"
)

// velocidexRecords parses data with Velocidex/evtx into generic maps.
func velocidexRecords(t *testing.T, data []byte) []map[string]any {
	t.Helper()
	chunks, err := velocidex.GetChunks(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, c := range chunks {
		recs, err := c.Parse(0)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			js, err := json.Marshal(r.Event)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			d := json.NewDecoder(bytes.NewReader(js))
			d.UseNumber()
			if err := d.Decode(&m); err != nil {
				t.Fatal(err)
			}
			m["_RecordID"] = json.Number(strconv.FormatUint(r.Header.RecordID, 10))
			out = append(out, m)
		}
	}
	return out
}

func path(m any, keys ...string) any {
	for _, k := range keys {
		mm, ok := m.(map[string]any)
		if !ok {
			return nil
		}
		m = mm[k]
	}
	return m
}

// vstring renders a Velocidex value as text.
func vstring(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	case []any:
		parts := make([]string, len(v))
		for i, p := range v {
			parts[i] = vstring(p)
		}
		return strings.Join(parts, ", ")
	}
	js, _ := json.Marshal(v)
	return string(js)
}

// sameValue compares our rendering with Velocidex's after normalizing the
// formatting differences: Velocidex renders HexInt as decimal, GUIDs
// without braces in upper case, binary as base64 and FILETIME as epoch
// seconds.
func sameValue(ours string, theirs any) bool {
	ts := vstring(theirs)
	if ours == ts {
		return true
	}
	if h, ok := strings.CutPrefix(ours, "0x"); ok {
		if n, err := strconv.ParseUint(h, 16, 64); err == nil && strconv.FormatUint(n, 10) == ts {
			return true
		}
	}
	if len(ours) == 38 && ours[0] == '{' && strings.EqualFold(ours[1:37], ts) {
		return true
	}
	if b, err := base64.StdEncoding.DecodeString(ts); err == nil && strings.EqualFold(hex.EncodeToString(b), ours) {
		return true
	}
	if rest, ok := strings.CutPrefix(ours, ts); ok && rest != "" && strings.ContainsAny(rest[:1], "&<>\"'") {
		return true // Velocidex drops entity references (&amp; &gt;...) and what follows
	}
	if f, err := strconv.ParseFloat(ts, 64); err == nil {
		if t, err := time.Parse(time.RFC3339Nano, ours); err == nil {
			d := float64(t.UnixNano())/1e9 - f
			return d < 1e-5 && d > -1e-5 // FILETIME: Velocidex gives epoch seconds
		}
	}
	if len(ts) == 1 && ours == strconv.Itoa(int(ts[0])) {
		return true // int8: Velocidex renders the byte as a character
	}
	return false
}

// velocidexData flattens Velocidex's EventData / UserData into name → value
// the way Castellan names them.
func velocidexData(ev map[string]any) map[string]any {
	out := map[string]any{}
	if ed, ok := path(ev, "Event", "EventData").(map[string]any); ok {
		for k, v := range ed {
			if _, ok := v.(string); ok && k == "Name" && ed["Data"] != nil {
				continue // <EventData Name="..."> attribute, merged in by Velocidex
			}
			if k == "Data" {
				// Unnamed Data elements: a value or a list.
				if m, ok := v.(map[string]any); ok && m["Name"] != nil {
					out[vstring(m["Name"])] = m["Value"]
					continue
				}
				if l, ok := v.([]any); ok {
					for i, x := range l {
						if m, ok := x.(map[string]any); ok && m["Name"] != nil {
							// Velocidex leaves {Name, Value} pairs when
							// it cannot normalize them.
							out[vstring(m["Name"])] = m["Value"]
							continue
						}
						out["Data"+strconv.Itoa(i+1)] = x
					}
				} else {
					out["Data1"] = v
				}
				continue
			}
			out[k] = v
		}
	}
	if ud, ok := path(ev, "Event", "UserData").(map[string]any); ok {
		for _, child := range ud {
			if cm, ok := child.(map[string]any); ok {
				for k, v := range cm {
					if k != "xmlns" {
						out[k] = v
					}
				}
			}
		}
	}
	return out
}

func TestParityVelocidex(t *testing.T) {
	entries := corpusManifest(t)
	files, records, values := 0, 0, 0
	var diffs []string
	extras := map[string]int{}
	for i, e := range entries {
		if testing.Short() && i%10 != 0 {
			continue
		}
		data, err := os.ReadFile(filepath.Join(corpusDir, e.path))
		if err != nil {
			t.Fatal(err)
		}
		_, ours := readAll(t, data, Options{})
		theirs := velocidexRecords(t, data)
		files++
		if len(ours) != len(theirs) {
			diffs = append(diffs, fmt.Sprintf("%s: %d records, velocidex %d", e.path, len(ours), len(theirs)))
			continue
		}
		for j := range ours {
			records++
			values += compareRecord(e.path, &ours[j], theirs[j], &diffs, extras)
		}
	}
	for i, d := range diffs {
		if i == 40 {
			t.Errorf("... %d more", len(diffs)-40)
			break
		}
		t.Error(d)
	}
	t.Logf("%d files, %d records, %d values compared, %d differences; fields only Castellan returns: %v",
		files, records, values, len(diffs), extras)
}

func compareRecord(file string, r *windows.Record, ev map[string]any, diffs *[]string, extras map[string]int) int {
	where := fmt.Sprintf("%s record %d", file, r.RecordID)
	add := func(f string, a ...any) { *diffs = append(*diffs, where+": "+fmt.Sprintf(f, a...)) }
	sys := func(k ...string) any { return path(ev, append([]string{"Event", "System"}, k...)...) }
	eid := sys("EventID")
	if m, ok := eid.(map[string]any); ok {
		eid = m["Value"]
	}
	if strconv.Itoa(r.EventID) != vstring(eid) {
		add("EventID %d, velocidex %v", r.EventID, eid)
	}
	if strconv.FormatUint(r.RecordID, 10) != vstring(ev["_RecordID"]) {
		add("RecordID %d, velocidex %v", r.RecordID, ev["_RecordID"])
	}
	if r.Channel != vstring(sys("Channel")) {
		add("Channel %q, velocidex %v", r.Channel, sys("Channel"))
	}
	if r.Computer != vstring(sys("Computer")) {
		add("Computer %q, velocidex %v", r.Computer, sys("Computer"))
	}
	if r.Provider != vstring(sys("Provider", "Name")) {
		add("Provider %q, velocidex %v", r.Provider, sys("Provider", "Name"))
	}
	vd := velocidexData(ev)
	keys := make([]string, 0, len(vd))
	for k := range vd {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	n := 0
	for _, k := range keys {
		n++
		ours, ok := r.Data[k]
		if !ok {
			add("Data %q missing, velocidex %v", k, vd[k])
			continue
		}
		if !sameValue(ours, vd[k]) {
			add("Data %q = %q, velocidex %q", k, ours, vstring(vd[k]))
		}
	}
	for k := range r.Data {
		if _, ok := vd[k]; !ok {
			// Castellan keeps fields Velocidex drops: the EventData
			// <Binary> element, and what follows an entity reference.
			extras[k]++
		}
	}
	if st := vstring(sys("TimeCreated", "SystemTime")); st != "" {
		if f, err := strconv.ParseFloat(st, 64); err == nil {
			if d := float64(r.Time.UnixNano())/1e9 - f; d > 1e-5 || d < -1e-5 {
				add("Time %s, velocidex %s", r.Time.Format(time.RFC3339Nano), st)
			}
		} else if t, err := time.Parse(time.RFC3339Nano, st); err == nil && !t.Equal(r.Time) {
			add("Time %s, velocidex %s", r.Time.Format(time.RFC3339Nano), st)
		}
	}
	return n
}
