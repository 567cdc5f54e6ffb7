package evtx

import (
	"encoding/binary"
	"hash/crc32"
	"time"
	"unicode/utf16"
)

// chunkBuilder writes one EVTX chunk the way Windows lays it out: names
// defined inline on first use and referenced by offset afterwards,
// templates defined inline in the first record that uses them.
type chunkBuilder struct {
	b        []byte
	names    map[string]uint32
	tmpls    map[string]uint32
	first    uint64 // first record id
	last     uint64
	n        int
	lastRec  int
	inTmpl   bool // writing a template definition (elements carry a dependency id)
	records  []int
	fullFlag bool
}

func newChunk() *chunkBuilder {
	c := &chunkBuilder{b: make([]byte, chunkHeaderSize, ChunkSize), names: map[string]uint32{}, tmpls: map[string]uint32{}}
	copy(c.b, chunkSig)
	return c
}

func (c *chunkBuilder) u8(v byte)    { c.b = append(c.b, v) }
func (c *chunkBuilder) u16(v uint16) { c.b = binary.LittleEndian.AppendUint16(c.b, v) }
func (c *chunkBuilder) u32(v uint32) { c.b = binary.LittleEndian.AppendUint32(c.b, v) }
func (c *chunkBuilder) u64(v uint64) { c.b = binary.LittleEndian.AppendUint64(c.b, v) }

func utf16le(s string) []byte {
	var out []byte
	for _, u := range utf16.Encode([]rune(s)) {
		out = binary.LittleEndian.AppendUint16(out, u)
	}
	return out
}

// name writes a name reference, defining the name inline the first time.
func (c *chunkBuilder) name(s string) {
	if off, ok := c.names[s]; ok {
		c.u32(off)
		return
	}
	off := uint32(len(c.b) + 4)
	c.names[s] = off
	c.u32(off)
	c.u32(0) // next
	c.u16(0) // hash (not checked)
	c.u16(uint16(len([]rune(s))))
	c.b = append(c.b, utf16le(s)...)
	c.u16(0)
}

func (c *chunkBuilder) open(name string, attrs bool) {
	tok := byte(0x01)
	if attrs {
		tok = 0x41
	}
	c.u8(tok)
	if c.inTmpl {
		c.u16(0xffff)
	}
	c.u32(0) // data size (not used by readers)
	c.name(name)
	if attrs {
		c.u32(0) // attribute list size
	}
}

func (c *chunkBuilder) attr(name string)         { c.u8(0x06); c.name(name) }
func (c *chunkBuilder) closeStart()              { c.u8(0x02) }
func (c *chunkBuilder) closeEmpty()              { c.u8(0x03) }
func (c *chunkBuilder) end()                     { c.u8(0x04) }
func (c *chunkBuilder) subst(idx uint16, t byte) { c.u8(0x0d); c.u16(idx); c.u8(t) }
func (c *chunkBuilder) text(s string) {
	c.u8(0x05)
	c.u8(0x01)
	c.u16(uint16(len(utf16.Encode([]rune(s)))))
	c.b = append(c.b, utf16le(s)...)
}

// textElem writes <name>text</name>.
func (c *chunkBuilder) textElem(name, text string) {
	c.open(name, false)
	c.closeStart()
	c.text(text)
	c.end()
}

// substElem writes <name>%idx</name>.
func (c *chunkBuilder) substElem(name string, idx uint16, t byte) {
	c.open(name, false)
	c.closeStart()
	c.subst(idx, t)
	c.end()
}

// value is one substitution value.
type value struct {
	typ  byte
	data []byte
}

func vString(s string) value { return value{0x01, utf16le(s)} }
func vU16(v uint16) value    { return value{0x06, binary.LittleEndian.AppendUint16(nil, v)} }
func vU64(v uint64) value    { return value{0x0a, binary.LittleEndian.AppendUint64(nil, v)} }
func vHex32(v uint32) value  { return value{0x14, binary.LittleEndian.AppendUint32(nil, v)} }
func vFiletime(t time.Time) value {
	return value{0x11, binary.LittleEndian.AppendUint64(nil, toFiletime(t))}
}
func vSID(rev byte, auth uint64, subs ...uint32) value {
	b := []byte{rev, byte(len(subs)), byte(auth >> 40), byte(auth >> 32), byte(auth >> 24), byte(auth >> 16), byte(auth >> 8), byte(auth)}
	for _, s := range subs {
		b = binary.LittleEndian.AppendUint32(b, s)
	}
	return value{0x13, b}
}
func vGUID(d1 uint32, d2, d3 uint16, d4 [8]byte) value {
	b := binary.LittleEndian.AppendUint32(nil, d1)
	b = binary.LittleEndian.AppendUint16(b, d2)
	b = binary.LittleEndian.AppendUint16(b, d3)
	return value{0x0f, append(b, d4[:]...)}
}

func toFiletime(t time.Time) uint64 {
	return uint64(t.UnixNano()/100) + 116444736000000000
}

// record frames body as one event record.
func (c *chunkBuilder) record(id uint64, t time.Time, body func()) {
	start := len(c.b)
	c.u32(recordMagic)
	c.u32(0) // size, patched
	c.u64(id)
	c.u64(toFiletime(t))
	body()
	size := uint32(len(c.b) - start + 4)
	c.u32(size)
	binary.LittleEndian.PutUint32(c.b[start+4:], size)
	if c.n == 0 {
		c.first = id
	}
	c.last = id
	c.n++
	c.lastRec = start
	c.records = append(c.records, start)
}

// instance writes a template instance of the template called key, defining
// it with def the first time, followed by values.
func (c *chunkBuilder) instance(key string, def func(), vals []value) {
	c.u8(0x0f)
	c.u8(1)
	c.u8(1)
	c.u8(0)
	c.u8(0x0c)
	c.u8(0x01)
	c.u32(uint32(len(key)) * 0x01010101) // template id (not used)
	if off, ok := c.tmpls[key]; ok {
		c.u32(off)
	} else {
		off := uint32(len(c.b) + 4)
		c.tmpls[key] = off
		c.u32(off)
		c.u32(0)                               // next template
		c.b = append(c.b, make([]byte, 16)...) // GUID
		sizeAt := len(c.b)
		c.u32(0)
		bodyStart := len(c.b)
		c.u8(0x0f)
		c.u8(1)
		c.u8(1)
		c.u8(0)
		c.inTmpl = true
		def()
		c.inTmpl = false
		c.u8(0x00) // EOF
		binary.LittleEndian.PutUint32(c.b[sizeAt:], uint32(len(c.b)-bodyStart))
	}
	c.u32(uint32(len(vals)))
	for _, v := range vals {
		c.u16(uint16(len(v.data)))
		c.u8(v.typ)
		c.u8(0)
	}
	for _, v := range vals {
		c.b = append(c.b, v.data...)
	}
}

// finish pads the chunk and writes its header with checksums.
func (c *chunkBuilder) finish() []byte {
	le := binary.LittleEndian
	free := len(c.b)
	out := make([]byte, ChunkSize)
	copy(out, c.b)
	le.PutUint64(out[8:], 1)
	le.PutUint64(out[16:], uint64(c.n))
	le.PutUint64(out[24:], c.first)
	le.PutUint64(out[32:], c.last)
	le.PutUint32(out[40:], 128)
	le.PutUint32(out[44:], uint32(c.lastRec))
	le.PutUint32(out[48:], uint32(free))
	le.PutUint32(out[52:], crc32.ChecksumIEEE(out[chunkHeaderSize:free]))
	le.PutUint32(out[124:], chunkHeaderCRC(out))
	return out
}

// fileBytes assembles a file header and chunks.
func fileBytes(dirty bool, nextID uint64, chunks ...[]byte) []byte {
	le := binary.LittleEndian
	h := make([]byte, HeaderSize)
	copy(h, fileSig)
	le.PutUint64(h[8:], 0)
	if len(chunks) > 0 {
		le.PutUint64(h[16:], uint64(len(chunks)-1))
	}
	le.PutUint64(h[24:], nextID)
	le.PutUint32(h[32:], 128)
	le.PutUint16(h[36:], 1)
	le.PutUint16(h[38:], 3)
	le.PutUint16(h[40:], HeaderSize)
	le.PutUint16(h[42:], uint16(len(chunks)))
	if dirty {
		le.PutUint32(h[120:], 1)
	}
	le.PutUint32(h[124:], crc32.ChecksumIEEE(h[:120]))
	for _, c := range chunks {
		h = append(h, c...)
	}
	return h
}

var testTime = time.Date(2024, 5, 6, 7, 8, 9, 123456700, time.UTC)

// logonTemplate defines a Security-style template: System with Provider,
// EventID, TimeCreated, EventRecordID, Channel (constant), Computer, and
// EventData with named Data fed by substitutions.
func (c *chunkBuilder) logonTemplate() {
	c.open("Event", true)
	c.attr("xmlns")
	c.text("http://schemas.microsoft.com/win/2004/08/events/event")
	c.closeStart()
	c.open("System", false)
	c.closeStart()
	c.open("Provider", true)
	c.attr("Name")
	c.subst(0, 0x01)
	c.closeEmpty()
	c.open("EventID", true)
	c.attr("Qualifiers")
	c.text("0")
	c.closeStart()
	c.subst(1, 0x06)
	c.end()
	c.open("TimeCreated", true)
	c.attr("SystemTime")
	c.subst(2, 0x11)
	c.closeEmpty()
	c.substElem("EventRecordID", 3, 0x0a)
	c.textElem("Channel", "Security")
	c.substElem("Computer", 4, 0x01)
	c.end() // System
	c.open("EventData", false)
	c.closeStart()
	for i, n := range []string{"TargetUserName", "TargetUserSid", "LogonGuid", "Status", "IpPort"} {
		c.open("Data", true)
		c.attr("Name")
		c.text(n)
		c.closeStart()
		c.subst(uint16(5+i), 0)
		c.end()
	}
	c.end() // EventData
	c.end() // Event
}

func logonValues(id uint64, user string) []value {
	return []value{
		vString("Microsoft-Windows-Security-Auditing"),
		vU16(4625),
		vFiletime(testTime),
		vU64(id),
		vString("dc01.corp.example"),
		vString(user),
		vSID(1, 5, 21, 1004336348, 1177238915, 682003330, 512),
		vGUID(0xA1B2C3D4, 0xE5F6, 0x0718, [8]byte{0x29, 0x3A, 0x4B, 0x5C, 0x6D, 0x7E, 0x8F, 0x90}),
		vHex32(0xC000006A),
		vU16(51234),
	}
}

// clearedRecord writes a 1102 record without a template: plain elements
// with a UserData part.
func (c *chunkBuilder) clearedBody() {
	c.u8(0x0f)
	c.u8(1)
	c.u8(1)
	c.u8(0)
	c.open("Event", false)
	c.closeStart()
	c.open("System", false)
	c.closeStart()
	c.open("Provider", true)
	c.attr("Name")
	c.text("Microsoft-Windows-Eventlog")
	c.closeEmpty()
	c.textElem("EventID", "1102")
	c.textElem("Channel", "Security")
	c.textElem("Computer", "dc01.corp.example")
	c.end()
	c.open("UserData", false)
	c.closeStart()
	c.open("LogFileCleared", true)
	c.attr("xmlns")
	c.text("http://manifests.microsoft.com/win/2004/08/windows/eventlog")
	c.closeStart()
	c.textElem("SubjectUserSid", "S-1-5-21-1-2-3-500")
	c.textElem("SubjectUserName", "admin")
	c.textElem("SubjectDomainName", "CORP")
	c.textElem("SubjectLogonId", "0x1f2e3")
	c.end()
	c.end()
	c.end()
	c.u8(0x00)
}

// nestedTemplate has the EventData in a BinXml substitution whose Data
// elements are unnamed.
func (c *chunkBuilder) nestedTemplate() {
	c.open("Event", false)
	c.closeStart()
	c.open("System", false)
	c.closeStart()
	c.open("Provider", true)
	c.attr("Name")
	c.text("Service Control Manager")
	c.closeEmpty()
	c.substElem("EventID", 0, 0x06)
	c.textElem("Channel", "System")
	c.substElem("Computer", 1, 0x01)
	c.end()
	c.subst(2, 0x21)
	c.end()
}

// nestedInstance writes an instance of nestedTemplate whose BinXml value
// holds <EventData> with unnamed <Data> elements.
func (c *chunkBuilder) nestedInstance(data ...string) {
	c.u8(0x0f)
	c.u8(1)
	c.u8(1)
	c.u8(0)
	c.u8(0x0c)
	c.u8(0x01)
	c.u32(0x4e455354)
	if off, ok := c.tmpls["nested"]; ok {
		c.u32(off)
	} else {
		off := uint32(len(c.b) + 4)
		c.tmpls["nested"] = off
		c.u32(off)
		c.u32(0)
		c.b = append(c.b, make([]byte, 16)...)
		sizeAt := len(c.b)
		c.u32(0)
		bodyStart := len(c.b)
		c.u8(0x0f)
		c.u8(1)
		c.u8(1)
		c.u8(0)
		c.inTmpl = true
		c.nestedTemplate()
		c.inTmpl = false
		c.u8(0x00)
		binary.LittleEndian.PutUint32(c.b[sizeAt:], uint32(len(c.b)-bodyStart))
	}
	v0, v1 := vU16(7045), vString("srv01.corp.example")
	c.u32(3)
	c.u16(uint16(len(v0.data)))
	c.u16(uint16(v0.typ))
	c.u16(uint16(len(v1.data)))
	c.u16(uint16(v1.typ))
	descAt := len(c.b)
	c.u16(0)
	c.u16(0x21)
	c.b = append(c.b, v0.data...)
	c.b = append(c.b, v1.data...)
	start := len(c.b)
	c.u8(0x0f)
	c.u8(1)
	c.u8(1)
	c.u8(0)
	c.open("EventData", false)
	c.closeStart()
	for _, d := range data {
		c.textElem("Data", d)
	}
	c.end()
	c.u8(0x00)
	binary.LittleEndian.PutUint16(c.b[descAt:], uint16(len(c.b)-start))
}
