package evtxwrite_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/mappings/windows"
	velocidex "www.velocidex.com/golang/evtx"
)

// readBack is one record as the independent Velocidex parser returns it, rendered as
// Windows renders values in XML.
type readBack struct {
	windows.Record
	Header   uint64  // record header FILETIME
	TimeSecs float64 // TimeCreated SystemTime as Velocidex reports it (seconds since 1970)
	Keywords uint64
	UserData string // element under UserData, if any
}

// parseEVTX reads every record of an EVTX file with Velocidex.
func parseEVTX(t testing.TB, data []byte) []readBack {
	t.Helper()
	chunks, err := velocidex.GetChunks(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("velocidex: %v", err)
	}
	var out []readBack
	for i, ch := range chunks {
		recs, err := ch.Parse(0)
		if err != nil {
			t.Fatalf("velocidex: chunk %d: %v", i, err)
		}
		if want := int(ch.Header.LastEventRecNumber - ch.Header.FirstEventRecNumber + 1); len(recs) != want {
			t.Fatalf("velocidex: chunk %d: %d records, header says %d", i, len(recs), want)
		}
		for _, r := range recs {
			out = append(out, convert(t, r))
		}
	}
	return out
}

func convert(t testing.TB, r *velocidex.EventRecord) readBack {
	t.Helper()
	js, err := json.Marshal(r.Event)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var doc struct {
		Event struct {
			System    map[string]any
			EventData map[string]any
			UserData  map[string]any
		}
	}
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("record %d: %v", r.Header.RecordID, err)
	}
	sys := doc.Event.System
	if sys == nil {
		t.Fatalf("record %d: no System: %s", r.Header.RecordID, js)
	}
	var rb readBack
	rb.Header = r.Header.FileTime
	rb.EventID = int(num(t, unwrap(sys["EventID"])))
	rb.RecordID = num(t, sys["EventRecordID"])
	if rb.RecordID != r.Header.RecordID {
		t.Errorf("record %d: EventRecordID %d", r.Header.RecordID, rb.RecordID)
	}
	rb.Provider = str(sub(sys, "Provider")["Name"])
	rb.Channel, rb.Computer = str(sys["Channel"]), str(sys["Computer"])
	rb.Keywords = num(t, sys["Keywords"])
	st, err := sub(sys, "TimeCreated")["SystemTime"].(json.Number).Float64()
	if err != nil {
		t.Fatalf("record %d: SystemTime: %v (%s)", r.Header.RecordID, err, js)
	}
	rb.TimeSecs = st
	rb.Time = filetime(r.Header.FileTime)
	rb.Data = map[string]string{}
	switch {
	case doc.Event.UserData != nil:
		for k, v := range doc.Event.UserData {
			rb.UserData = k
			m, _ := v.(map[string]any)
			for name, val := range m {
				if name != "xmlns" {
					rb.Data[name] = render(t, val)
				}
			}
		}
	case doc.Event.EventData != nil:
		items := []any{doc.Event.EventData["Data"]}
		if arr, ok := items[0].([]any); ok {
			items = arr
		}
		for _, it := range items {
			m, ok := it.(map[string]any)
			if !ok {
				continue // <EventData/>
			}
			name, ok := m["Name"].(string)
			if !ok {
				t.Fatalf("record %d: Data without Name: %s", r.Header.RecordID, js)
			}
			rb.Data[name] = render(t, m["Value"])
		}
	}
	return rb
}

func sub(m map[string]any, k string) map[string]any {
	v, _ := m[k].(map[string]any)
	return v
}

func unwrap(v any) any {
	if m, ok := v.(map[string]any); ok {
		return m["Value"]
	}
	return v
}

func str(v any) string { s, _ := v.(string); return s }

func num(t testing.TB, v any) uint64 {
	t.Helper()
	n, ok := v.(json.Number)
	if !ok {
		t.Fatalf("%v (%T) is not a number", v, v)
	}
	u, err := strconv.ParseUint(n.String(), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// render formats a substitution value as Windows renders it in XML. Velocidex returns
// HexInt32/HexInt64 as numbers and GUIDs without braces.
func render(t testing.TB, v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		if len(x) == 36 && strings.Count(x, "-") == 4 && strings.ToUpper(x) == x {
			return "{" + x + "}"
		}
		return x
	case json.Number:
		return fmt.Sprintf("0x%x", num(t, x))
	}
	t.Fatalf("unexpected value %v (%T)", v, v)
	return ""
}

func filetime(ft uint64) time.Time {
	const epochDiff = 11644473600
	return time.Unix(int64(ft/10_000_000)-epochDiff, int64(ft%10_000_000)*100).UTC()
}

// headerWant is the expected state of the file header.
type headerWant struct {
	dirty bool // dirty flag set
	stale bool // checksum does not match (Options.Dirty)
	early bool // written before the chunks (plain io.Writer): counts cover the first chunk only
}

// checkStructure verifies the file and chunk headers, checksums, tables and record framing
// by recomputing them, independently of any parser. It returns the number of chunks.
func checkStructure(t testing.TB, data []byte, want headerWant) int {
	t.Helper()
	le := binary.LittleEndian
	if len(data) < 4096 || (len(data)-4096)%65536 != 0 {
		t.Fatalf("file size %d is not 4096 + n×65536", len(data))
	}
	h := data[:4096]
	if string(h[:8]) != "ElfFile\x00" || le.Uint32(h[32:]) != 128 || le.Uint16(h[36:]) != 1 ||
		le.Uint16(h[38:]) != 3 || le.Uint16(h[40:]) != 4096 || le.Uint64(h[8:]) != 0 {
		t.Fatalf("file header % x", h[:48])
	}
	crcOK := crc32.ChecksumIEEE(h[:120]) == le.Uint32(h[124:])
	dirty := le.Uint32(h[120:])&1 != 0
	if dirty != want.dirty || crcOK == want.stale {
		t.Errorf("dirty flag %v, checksum valid %v; want %+v", dirty, crcOK, want)
	}
	n := (len(data) - 4096) / 65536
	if want.early {
		if n > 0 && (le.Uint16(h[42:]) != 1 || le.Uint64(h[16:]) != 0) {
			t.Errorf("early header: %d chunks, last %d", le.Uint16(h[42:]), le.Uint64(h[16:]))
		}
	} else if int(le.Uint16(h[42:])) != n || (n > 0 && le.Uint64(h[16:]) != uint64(n-1)) {
		t.Errorf("header: %d chunks, last %d; file has %d", le.Uint16(h[42:]), le.Uint64(h[16:]), n)
	}
	var lastID uint64
	recNum := uint64(1)
	for i := range n {
		c := data[4096+i*65536 : 4096+(i+1)*65536]
		if string(c[:8]) != "ElfChnk\x00" || le.Uint32(c[40:]) != 128 {
			t.Fatalf("chunk %d: header % x", i, c[:48])
		}
		free, last := le.Uint32(c[48:]), le.Uint32(c[44:])
		if free > 65536 || last < 512 || last >= free {
			t.Fatalf("chunk %d: free %d last %d", i, free, last)
		}
		if crc32.ChecksumIEEE(c[512:free]) != le.Uint32(c[52:]) {
			t.Errorf("chunk %d: records checksum mismatch", i)
		}
		hc := crc32.Update(crc32.ChecksumIEEE(c[:120]), crc32.IEEETable, c[128:512])
		if hc != le.Uint32(c[124:]) {
			t.Errorf("chunk %d: header checksum mismatch", i)
		}
		if !bytes.Equal(c[free:], make([]byte, 65536-int(free))) {
			t.Errorf("chunk %d: free space not zeroed", i)
		}
		if first := le.Uint64(c[8:]); first != recNum {
			t.Errorf("chunk %d: first record number %d, want %d", i, first, recNum)
		}
		// Records: framing, alignment, ids.
		off, count := uint32(512), uint64(0)
		var prev uint32
		for off < free {
			if le.Uint32(c[off:]) != 0x2a2a {
				t.Fatalf("chunk %d @%d: record magic", i, off)
			}
			size := le.Uint32(c[off+4:])
			if size%8 != 0 || size < 32 || off+size > free || le.Uint32(c[off+size-4:]) != size {
				t.Fatalf("chunk %d @%d: record size %d", i, off, size)
			}
			id := le.Uint64(c[off+8:])
			if count == 0 && id != le.Uint64(c[24:]) {
				t.Errorf("chunk %d: first id %d, header %d", i, id, le.Uint64(c[24:]))
			}
			if id <= lastID {
				t.Errorf("chunk %d: record id %d after %d", i, id, lastID)
			}
			lastID = id
			prev = off
			off += size
			count++
		}
		if off != free || prev != last || lastID != le.Uint64(c[32:]) || le.Uint64(c[16:]) != recNum+count-1 {
			t.Errorf("chunk %d: records end %d (free %d), last at %d (header %d), last id %d (header %d)",
				i, off, free, prev, last, lastID, le.Uint64(c[32:]))
		}
		recNum += count
		// Common-string table: every name sits in the bucket of its hash.
		for b := range 64 {
			for p := le.Uint32(c[128+4*b:]); p != 0; p = le.Uint32(c[p:]) {
				hash := le.Uint16(c[p+4:])
				units := make([]uint16, le.Uint16(c[p+6:]))
				for k := range units {
					units[k] = le.Uint16(c[int(p)+8+2*k:])
				}
				var x uint32
				for _, u := range units {
					x = x*65599 + uint32(u)
				}
				if uint16(x) != hash || int(hash%64) != b {
					t.Errorf("chunk %d: name at %d hash %04x (computed %04x) in bucket %d", i, p, hash, uint16(x), b)
				}
			}
		}
		// Template table: every definition sits in the bucket of its GUID's hash, and the
		// GUID's first 32 bits are the template id.
		for b := range 32 {
			for p := le.Uint32(c[384+4*b:]); p != 0; p = le.Uint32(c[p:]) {
				var x uint32
				for k := 0; k < 16; k += 2 {
					x = x*65599 + uint32(le.Uint16(c[int(p)+4+k:]))
				}
				if int(uint16(x)%32) != b || le.Uint32(c[p-8:]) != le.Uint32(c[p+4:]) {
					t.Errorf("chunk %d: template at %d in bucket %d", i, p, b)
				}
			}
		}
	}
	if n > 0 && !want.early && le.Uint64(h[24:]) != lastID+1 {
		t.Errorf("header next record id %d, want %d", le.Uint64(h[24:]), lastID+1)
	}
	return n
}

// sameTime reports whether Velocidex's float seconds match t to the microsecond (float64
// cannot hold 100 ns resolution at today's epoch values).
func sameTime(secs float64, t time.Time) bool {
	want := float64(t.Unix()) + float64(t.Nanosecond())/1e9
	return math.Abs(secs-want) < 1e-6
}
