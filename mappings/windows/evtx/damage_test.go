package evtx

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/castellan-itdr/castellan/mappings/windows"
)

// recordOffsets returns the file offsets of the records of the chunk at
// slot, by walking their framing.
func recordOffsets(data []byte, slot int) []int {
	base := HeaderSize + slot*ChunkSize
	var out []int
	for p := chunkHeaderSize; p+recordHeaderSize <= ChunkSize; {
		if binary.LittleEndian.Uint32(data[base+p:]) != recordMagic {
			break
		}
		out = append(out, base+p)
		p += int(binary.LittleEndian.Uint32(data[base+p+4:]))
	}
	return out
}

func ids(recs []windows.Record) []uint64 {
	var out []uint64
	for _, r := range recs {
		out = append(out, r.RecordID)
	}
	return out
}

func collect(data []byte) ([]windows.Record, []Damage, Stats, error) {
	var damages []Damage
	r, err := NewReader(bytes.NewReader(data), int64(len(data)), Options{OnDamage: func(d Damage) { damages = append(damages, d) }})
	if err != nil {
		return nil, nil, Stats{}, err
	}
	var recs []windows.Record
	for i := 0; i < 100000; i++ {
		rec, err := r.Next()
		if err == io.EOF {
			return recs, damages, r.Stats(), nil
		}
		if err != nil {
			return recs, damages, r.Stats(), err
		}
		recs = append(recs, rec)
	}
	return recs, damages, r.Stats(), fmt.Errorf("Next does not end")
}

func hasDamage(ds []Damage, off int64, id uint64) bool {
	for _, d := range ds {
		if d.Offset == off && d.RecordID == id && d.Err != nil {
			return true
		}
	}
	return false
}

// twoChunks is sampleFile's chunk followed by a chunk of logon records 20..24.
func twoChunks() []byte {
	c1 := newChunk()
	c1.record(10, testTime, func() { c1.instance("logon", c1.logonTemplate, logonValues(10, "alice")) })
	c1.record(11, testTime, func() { c1.instance("logon", c1.logonTemplate, logonValues(11, "bob")) })
	c1.record(12, testTime, c1.clearedBody)
	c1.record(13, testTime, func() { c1.nestedInstance("a", "b") })
	c2 := newChunk()
	for id := uint64(20); id < 25; id++ {
		c2.record(id, testTime, func() { c2.instance("logon", c2.logonTemplate, logonValues(id, "u"+strconv.Itoa(int(id)))) })
	}
	return fileBytes(false, 25, c1.finish(), c2.finish())
}

func TestDamage(t *testing.T) {
	base := twoChunks()
	offs := recordOffsets(base, 0)
	offs2 := recordOffsets(base, 1)
	le := binary.LittleEndian
	cases := []struct {
		name      string
		mutate    func(b []byte) []byte
		wantIDs   []uint64
		damageAt  int64
		damageID  uint64
		chunkOnly bool
	}{
		{
			name:     "bad token in a record",
			mutate:   func(b []byte) []byte { b[offs[2]+recordHeaderSize+4] = 0xff; return b },
			wantIDs:  []uint64{10, 11, 13, 20, 21, 22, 23, 24},
			damageAt: int64(offs[2]), damageID: 12,
		},
		{
			name:     "record size zeroed: rest of the chunk lost, next chunk read",
			mutate:   func(b []byte) []byte { le.PutUint32(b[offs[1]+4:], 0); return b },
			wantIDs:  []uint64{10, 20, 21, 22, 23, 24},
			damageAt: int64(offs[1]), damageID: 11,
		},
		{
			name:     "huge substitution count",
			mutate:   func(b []byte) []byte { return setSubstCount(b, offs2[1], 0xffffffff) },
			wantIDs:  []uint64{10, 11, 12, 13, 20, 22, 23, 24},
			damageAt: int64(offs2[1]), damageID: 21,
		},
		{
			name:     "huge record size",
			mutate:   func(b []byte) []byte { le.PutUint32(b[offs2[2]+4:], 0x7fffffff); return b },
			wantIDs:  []uint64{10, 11, 12, 13, 20, 21},
			damageAt: int64(offs2[2]), damageID: 22,
		},
		{
			name:     "template definition size past the chunk",
			mutate:   func(b []byte) []byte { le.PutUint32(b[offs2[0]+recordHeaderSize+10+20+4:], 0xfffffff0); return b },
			wantIDs:  []uint64{10, 11, 12, 13},
			damageAt: int64(offs2[0]), damageID: 20,
		},
		{
			name:      "bad chunk signature",
			mutate:    func(b []byte) []byte { b[HeaderSize] = 'X'; return b },
			wantIDs:   []uint64{20, 21, 22, 23, 24},
			damageAt:  HeaderSize,
			chunkOnly: true,
		},
		{
			name:      "truncated last chunk",
			mutate:    func(b []byte) []byte { return b[:len(b)-30000] },
			wantIDs:   []uint64{10, 11, 12, 13},
			damageAt:  HeaderSize + ChunkSize,
			chunkOnly: true,
		},
		{
			name:      "records checksum wrong: reported, sane records still read",
			mutate:    func(b []byte) []byte { le.PutUint32(b[HeaderSize+52:], 1); return b },
			wantIDs:   []uint64{10, 11, 12, 13, 20, 21, 22, 23, 24},
			damageAt:  HeaderSize,
			chunkOnly: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := tc.mutate(bytes.Clone(base))
			recs, damages, st, err := collect(data)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(recs); fmt.Sprint(got) != fmt.Sprint(tc.wantIDs) {
				t.Errorf("ids %v, want %v (damages %v)", got, tc.wantIDs, damages)
			}
			if !hasDamage(damages, tc.damageAt, tc.damageID) {
				t.Errorf("no damage at offset %d id %d: %v", tc.damageAt, tc.damageID, damages)
			}
			if tc.chunkOnly && st.DamagedChunks == 0 || !tc.chunkOnly && st.DamagedRecords == 0 {
				t.Errorf("stats %+v", st)
			}
			if st.Records != len(recs) {
				t.Errorf("Stats.Records %d, returned %d", st.Records, len(recs))
			}
		})
	}
}

// setSubstCount overwrites the substitution count of the template instance
// of the record at off (the template is referenced, not defined, there).
func setSubstCount(b []byte, off int, n uint32) []byte {
	p := off + recordHeaderSize + 4 + 1 + 1 + 4 + 4
	binary.LittleEndian.PutUint32(b[p:], n)
	return b
}

// TestDirtyLastChunk: a live file's last chunk with a stale records
// checksum is normal, not damage.
func TestDirtyLastChunk(t *testing.T) {
	data := twoChunks()
	binary.LittleEndian.PutUint32(data[120:], 1) // dirty
	binary.LittleEndian.PutUint32(data[HeaderSize+ChunkSize+52:], 1)
	recs, damages, st, err := collect(data)
	if err != nil || len(recs) != 9 || len(damages) != 0 || st.DamagedChunks != 0 {
		t.Fatalf("err %v, %d records, damages %v", err, len(recs), damages)
	}
}

func TestSkipTo(t *testing.T) {
	data := twoChunks()
	for _, tc := range []struct {
		after     uint64
		want      string
		decodeIDs int // records decoded and returned
	}{
		{0, "[10 11 12 13 20 21 22 23 24]", 9},
		{11, "[12 13 20 21 22 23 24]", 7},
		{13, "[20 21 22 23 24]", 5},
		{22, "[23 24]", 2},
		{24, "[]", 0},
	} {
		r, err := NewReader(bytes.NewReader(data), int64(len(data)), Options{})
		if err != nil {
			t.Fatal(err)
		}
		r.SkipTo(tc.after)
		got := ids(drain(t, r))
		if fmt.Sprint(got) != tc.want && !(tc.want == "[]" && got == nil) {
			t.Errorf("SkipTo(%d): %v, want %s", tc.after, got, tc.want)
		}
		if st := r.Stats(); st.Records != tc.decodeIDs {
			t.Errorf("SkipTo(%d): stats %+v", tc.after, st)
		}
	}
}

// TestGrowingFile: a file that gains a chunk is read again from the last
// record id seen and continues where it stopped.
func TestGrowingFile(t *testing.T) {
	full := twoChunks()
	first := full[:HeaderSize+ChunkSize]
	// Preallocated zero space after the first chunk, as Windows does.
	grow := append(bytes.Clone(first), make([]byte, ChunkSize)...)
	r, err := NewReader(bytes.NewReader(grow), int64(len(grow)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	recs := drain(t, r)
	if fmt.Sprint(ids(recs)) != "[10 11 12 13]" || r.Stats().DamagedChunks != 0 {
		t.Fatalf("first pass %v %+v", ids(recs), r.Stats())
	}
	last := recs[len(recs)-1].RecordID
	copy(grow[HeaderSize+ChunkSize:], full[HeaderSize+ChunkSize:])
	r2, err := NewReader(bytes.NewReader(grow), int64(len(grow)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	r2.SkipTo(last)
	if got := ids(drain(t, r2)); fmt.Sprint(got) != "[20 21 22 23 24]" {
		t.Fatalf("second pass %v", got)
	}
	// The same Reader, after io.EOF, rescans with SkipTo.
	r.SkipTo(last)
	if got := ids(drain(t, r)); fmt.Sprint(got) != "[20 21 22 23 24]" {
		t.Fatalf("same reader after EOF: %v", got)
	}
}

func TestOffset(t *testing.T) {
	data := twoChunks()
	r, _ := NewReader(bytes.NewReader(data), int64(len(data)), Options{})
	if r.Offset() != HeaderSize {
		t.Errorf("before: %d", r.Offset())
	}
	for {
		rec, err := r.Next()
		if err != nil {
			break
		}
		want := int64(HeaderSize)
		if rec.RecordID >= 20 {
			want += ChunkSize
		}
		if r.Offset() != want {
			t.Errorf("record %d: offset %d, want %d", rec.RecordID, r.Offset(), want)
		}
	}
}

// fuzzSeeds are the inputs FuzzReader starts from: the records areas of
// builder chunks (FuzzReader wraps them in a valid header and chunk, so
// mutations reach the binary XML decoder) and one whole small file.
func fuzzSeeds() [][]byte {
	area := func(file []byte, slot int) []byte {
		c := file[HeaderSize+slot*ChunkSize:]
		return bytes.Clone(c[chunkHeaderSize:binary.LittleEndian.Uint32(c[48:])])
	}
	two := twoChunks()
	return [][]byte{area(sampleFile(), 0), area(two, 1), area(two, 0)[:700]}
}

// fuzzFile turns a fuzz input into a file: inputs that start with the
// file signature are used as they are; others become the records area of
// one chunk with valid checksums.
func fuzzFile(data []byte) []byte {
	if bytes.HasPrefix(data, []byte(fileSig)) {
		return data
	}
	c := newChunk()
	c.b = append(c.b, data[:min(len(data), ChunkSize-chunkHeaderSize)]...)
	c.first, c.last = 1, 1<<40
	return fileBytes(false, 0, c.finish())
}

// TestWriteFuzzSeeds regenerates testdata/fuzz/FuzzReader from the
// builder when CASTELLAN_WRITE_FUZZ_SEEDS is set.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("CASTELLAN_WRITE_FUZZ_SEEDS") == "" {
		t.Skip("set CASTELLAN_WRITE_FUZZ_SEEDS=1 to regenerate testdata/fuzz/FuzzReader")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzReader")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, s := range fuzzSeeds() {
		body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(s)) + ")\n"
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("builder-%d", i)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func FuzzReader(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		data = fuzzFile(data)
		r, err := NewReader(bytes.NewReader(data), int64(len(data)), Options{OnDamage: func(d Damage) {
			if d.Err == nil || d.Offset < HeaderSize || d.Offset >= int64(len(data)) {
				t.Fatalf("bad damage %+v", d)
			}
		}})
		if err != nil {
			return
		}
		limit := len(data)/recordHeaderSize + 2
		for i := 0; ; i++ {
			if i > limit {
				t.Fatalf("Next returned more records than the file can hold")
			}
			rec, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			if len(rec.Data) > maxData {
				t.Fatalf("%d Data entries", len(rec.Data))
			}
			for k, v := range rec.Data {
				if len(k) > maxValue || len(v) > maxValue {
					t.Fatalf("field %d/%d bytes", len(k), len(v))
				}
			}
			for _, s := range []string{rec.Provider, rec.Channel, rec.Computer} {
				if len(s) > maxValue {
					t.Fatalf("system field of %d bytes", len(s))
				}
			}
		}
	})
}
