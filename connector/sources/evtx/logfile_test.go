package evtx

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"testing"
	"time"
	"unicode/utf16"

	winevtx "github.com/castellan-itdr/castellan/mappings/windows/evtx"
)

// testLog writes an EVTX file the way the Windows event log service does: a
// file header marked dirty while open and lagging behind, chunks written in
// place into preallocated space, and each record visible as soon as it is
// written. Close writes the final header (clean or left dirty).
type testLog struct {
	t      *testing.T
	f      *os.File
	nextID uint64
	slot   int    // current chunk slot
	chunk  []byte // current chunk
	free   int    // free space offset in chunk
	first  uint64 // first record id in chunk
	body   int    // record body size: smaller records, more per chunk
}

const (
	chunkHeader  = 512
	recordHeader = 24
)

// newTestLog creates path with the first record id firstID, preallocating
// prealloc chunk slots (zeros).
func newTestLog(t *testing.T, path string, firstID uint64, prealloc int) *testLog {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	l := &testLog{t: t, f: f, nextID: firstID, chunk: make([]byte, winevtx.ChunkSize), body: 3000}
	l.resetChunk()
	if err := f.Truncate(winevtx.HeaderSize + int64(prealloc)*winevtx.ChunkSize); err != nil {
		t.Fatal(err)
	}
	l.writeHeader(0, firstID, true)
	t.Cleanup(func() { f.Close() })
	return l
}

// writeLog writes a whole, cleanly closed log with records firstID..lastID.
func writeLog(t *testing.T, path string, firstID, lastID uint64) *testLog {
	t.Helper()
	l := newTestLog(t, path, firstID, 0)
	l.add(int(lastID - firstID + 1))
	l.close(true)
	return l
}

func (l *testLog) resetChunk() {
	clear(l.chunk)
	l.free = chunkHeader
	l.first = l.nextID
}

// writeHeader writes the file header; lastChunk and NextRecordID lag behind
// as they do in a live log until close.
func (l *testLog) writeHeader(lastChunk int, next uint64, dirty bool) {
	h := make([]byte, winevtx.HeaderSize)
	copy(h, "ElfFile\x00")
	le := binary.LittleEndian
	le.PutUint64(h[8:], 0)
	le.PutUint64(h[16:], uint64(lastChunk))
	le.PutUint64(h[24:], next)
	le.PutUint32(h[32:], 128)
	le.PutUint16(h[36:], 1)
	le.PutUint16(h[38:], 3)
	le.PutUint16(h[40:], winevtx.HeaderSize)
	le.PutUint16(h[42:], uint16(lastChunk+1))
	var flags uint32
	if dirty {
		flags = 1
	}
	le.PutUint32(h[120:], flags)
	le.PutUint32(h[124:], crc32.ChecksumIEEE(h[:120]))
	if _, err := l.f.WriteAt(h, 0); err != nil {
		l.t.Fatal(err)
	}
}

// record builds record id as it sits at chunk offset at: a 4624 logon of
// user<id> in Binary XML with inline names (names are chunk offsets, so
// the bytes depend on where the record goes), padded to a fixed size so a
// chunk holds perChunk records.
func (l *testLog) record(id uint64, at int) []byte {
	le := binary.LittleEndian
	r := make([]byte, recordHeader, recordHeader+l.body+4)
	le.PutUint32(r[0:], 0x00002a2a)
	le.PutUint64(r[8:], id)
	ft := uint64(time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC).Add(time.Duration(id)*time.Second).UnixNano()/100) + 116444736000000000
	le.PutUint64(r[16:], ft)
	x := binXML{b: r, base: at}
	x.b = append(x.b, 0x0f, 0x01, 0x01, 0x00) // fragment header
	x.open("Event", false)
	x.open("System", false)
	x.open("Provider", true)
	x.attr("Name", "Microsoft-Windows-Security-Auditing")
	x.b = append(x.b, 0x03) // close empty element
	x.elem("EventID", "4624")
	x.elem("Channel", "Security")
	x.elem("Computer", "DC01.corp.local")
	x.end()
	x.open("EventData", false)
	for _, kv := range [][2]string{{"TargetUserName", fmt.Sprintf("user%d", id)}, {"TargetDomainName", "CORP"},
		{"LogonType", "3"}, {"IpAddress", "10.0.0.7"}} {
		x.open("Data", true)
		x.attr("Name", kv[0])
		x.b = append(x.b, 0x02)
		x.text(kv[1])
		x.end()
	}
	x.end()
	x.end()
	x.b = append(x.b, 0x00) // end of stream
	size := recordHeader + l.body + 4
	if len(x.b)+4 > size {
		l.t.Fatalf("record body of %d bytes does not fit %d", len(x.b), size)
	}
	r = x.b[:size]
	le.PutUint32(r[4:], uint32(size))
	le.PutUint32(r[size-4:], uint32(size))
	return r
}

// binXML writes Binary XML outside templates, names defined inline.
type binXML struct {
	b    []byte
	base int // chunk offset of b[0]
}

func (x *binXML) name(s string) {
	u := utf16.Encode([]rune(s))
	off := x.base + len(x.b) + 4
	x.b = binary.LittleEndian.AppendUint32(x.b, uint32(off))
	x.b = binary.LittleEndian.AppendUint32(x.b, 0) // next
	x.b = binary.LittleEndian.AppendUint16(x.b, 0) // hash, not checked
	x.b = binary.LittleEndian.AppendUint16(x.b, uint16(len(u)))
	for _, c := range u {
		x.b = binary.LittleEndian.AppendUint16(x.b, c)
	}
	x.b = binary.LittleEndian.AppendUint16(x.b, 0)
}

func (x *binXML) open(name string, attrs bool) {
	if attrs {
		x.b = append(x.b, 0x41)
	} else {
		x.b = append(x.b, 0x01)
	}
	x.b = binary.LittleEndian.AppendUint32(x.b, 0) // data size, unused
	x.name(name)
	if attrs {
		x.b = binary.LittleEndian.AppendUint32(x.b, 0) // attribute list size
	}
}

func (x *binXML) attr(name, value string) {
	x.b = append(x.b, 0x06)
	x.name(name)
	x.text(value)
}

func (x *binXML) text(s string) {
	u := utf16.Encode([]rune(s))
	x.b = append(x.b, 0x05, 0x01)
	x.b = binary.LittleEndian.AppendUint16(x.b, uint16(len(u)))
	for _, c := range u {
		x.b = binary.LittleEndian.AppendUint16(x.b, c)
	}
}

func (x *binXML) elem(name, text string) {
	x.open(name, false)
	x.b = append(x.b, 0x02)
	x.text(text)
	x.end()
}

func (x *binXML) end() { x.b = append(x.b, 0x04) }

// add appends n records, each written to the file at once.
func (l *testLog) add(n int) {
	for range n {
		if l.free+recordHeader+l.body+4 > winevtx.ChunkSize {
			l.slot++
			l.resetChunk()
		}
		r := l.record(l.nextID, l.free)
		copy(l.chunk[l.free:], r)
		l.free += len(r)
		l.nextID++
		l.flushChunk()
	}
}

// addTorn writes the first n bytes of the next record only, as a writer
// caught in the middle of a record; finish completes it.
func (l *testLog) addTorn(n int) {
	r := l.record(l.nextID, l.free)
	if l.free+len(r) > winevtx.ChunkSize {
		l.t.Fatal("torn record must fit the current chunk")
	}
	off := winevtx.HeaderSize + int64(l.slot)*winevtx.ChunkSize + int64(l.free)
	if _, err := l.f.WriteAt(r[:n], off); err != nil {
		l.t.Fatal(err)
	}
}

func (l *testLog) finish() { l.add(1) }

// flushChunk updates the current chunk's header and writes it in place.
func (l *testLog) flushChunk() {
	b := l.chunk
	le := binary.LittleEndian
	copy(b, "ElfChnk\x00")
	last := l.nextID - 1
	le.PutUint64(b[8:], l.first)
	le.PutUint64(b[16:], last)
	le.PutUint64(b[24:], l.first)
	le.PutUint64(b[32:], last)
	le.PutUint32(b[40:], 128)
	le.PutUint32(b[44:], uint32(l.free-(recordHeader+l.body+4)))
	le.PutUint32(b[48:], uint32(l.free))
	le.PutUint32(b[52:], crc32.ChecksumIEEE(b[chunkHeader:l.free]))
	c := crc32.Update(0, crc32.IEEETable, b[:120])
	le.PutUint32(b[124:], crc32.Update(c, crc32.IEEETable, b[128:chunkHeader]))
	if _, err := l.f.WriteAt(b, winevtx.HeaderSize+int64(l.slot)*winevtx.ChunkSize); err != nil {
		l.t.Fatal(err)
	}
}

// close writes the final header: clean, or left dirty as after a crash.
func (l *testLog) close(clean bool) {
	l.writeHeader(l.slot, l.nextID, !clean)
	if err := l.f.Close(); err != nil {
		l.t.Fatal(err)
	}
}

// perChunk is how many records one chunk holds.
func (l *testLog) perChunk() int {
	return (winevtx.ChunkSize - chunkHeader) / (recordHeader + l.body + 4)
}

// chunkOffset is the file offset of chunk slot i.
func chunkOffset(i int) int64 { return winevtx.HeaderSize + int64(i)*winevtx.ChunkSize }

// corrupt overwrites bytes of a file at off.
func corrupt(t *testing.T, path string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}
