package evtxwrite

import (
	"crypto/sha256"
	"encoding/binary"
	"hash/crc32"
	"unicode/utf16"
)

// eventNS is the namespace of the Event element.
const eventNS = "http://schemas.microsoft.com/win/2004/08/events/event"

// Substitution indexes of the System values; fields follow from sysValues on.
const (
	subLevel = iota
	subOpcode
	subTask
	subEventID
	subQualifiers
	subKeywords
	subTimeCreated
	subActivityID
	subRelatedActivityID
	subProcessID
	subThreadID
	subRecordID
	subVersion
	subUserID
	sysValues
)

// template is one template definition: everything that does not vary between the records
// that share it.
type template struct {
	key    string
	guid   [16]byte
	id     uint32 // first 32 bits of guid; identifies the template in a chunk
	bucket int    // slot in the chunk's template table

	provider, providerGUID, channel, computer, userData, userDataNS string
	names                                                           []string
	types                                                           []byte
}

func newTemplate(key string, e *Event, providerGUID string, types []byte) *template {
	t := &template{key: key, provider: e.Provider, providerGUID: providerGUID, channel: e.Channel,
		computer: e.Computer, userData: e.UserData, userDataNS: e.UserDataNS,
		types: append([]byte(nil), types...)}
	for _, f := range e.Fields {
		t.names = append(t.names, f.Name)
	}
	sum := sha256.Sum256([]byte(key))
	copy(t.guid[:], sum[:16])
	t.id = binary.LittleEndian.Uint32(t.guid[:4])
	if t.id == 0 {
		t.guid[0], t.id = 1, 1
	}
	var h uint32
	for i := 0; i < 16; i += 2 {
		h = h*65599 + uint32(binary.LittleEndian.Uint16(t.guid[i:]))
	}
	t.bucket = int(uint16(h) % 32)
	return t
}

// nameHash is Windows' hash of a name in the common-string table.
func nameHash(s string) uint16 {
	var h uint32
	for _, r := range s {
		if r >= 0x10000 {
			r1, r2 := utf16.EncodeRune(r)
			h = h*65599 + uint32(r1)
			h = h*65599 + uint32(r2)
			continue
		}
		h = h*65599 + uint32(r)
	}
	return uint16(h)
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}

// chunk is the chunk being filled. Writes past its end set over instead of panicking;
// the record being written is then rolled back.
type chunk struct {
	buf  [ChunkSize]byte
	p    int // write position (free space offset once a record is complete)
	over bool

	names   map[string]uint32 // name → offset of its entry
	tmpls   map[string]uint32 // template key → offset of its definition
	ids     map[uint32]bool   // template ids in use
	strTab  [64]uint32
	tmplTab [32]uint32

	count      int
	firstID    uint64
	lastID     uint64
	lastRecord int
	addedNames []string
	scratch    []byte
	savedStr   [64]uint32
	savedTmpl  [32]uint32
	added      *template // template defined by the record being written
}

func (c *chunk) init() {
	c.names = make(map[string]uint32)
	c.tmpls = make(map[string]uint32)
	c.ids = make(map[uint32]bool)
	c.reset()
}

// reset empties the chunk for reuse; the record area is overwritten by the next records
// and whatever lies past them is cleared by finish.
func (c *chunk) reset() {
	clear(c.buf[:chunkHeaderSize])
	c.p = chunkHeaderSize
	c.over = false
	clear(c.names)
	clear(c.tmpls)
	clear(c.ids)
	c.strTab = [64]uint32{}
	c.tmplTab = [32]uint32{}
	c.count, c.firstID, c.lastID, c.lastRecord = 0, 0, 0, 0
}

func (c *chunk) room(n int) bool {
	if c.over || c.p+n > len(c.buf) {
		c.over = true
		return false
	}
	return true
}

func (c *chunk) u8(v byte) {
	if c.room(1) {
		c.buf[c.p] = v
		c.p++
	}
}

func (c *chunk) u16(v uint16) {
	if c.room(2) {
		binary.LittleEndian.PutUint16(c.buf[c.p:], v)
		c.p += 2
	}
}

func (c *chunk) u32(v uint32) {
	if c.room(4) {
		binary.LittleEndian.PutUint32(c.buf[c.p:], v)
		c.p += 4
	}
}

func (c *chunk) u64(v uint64) {
	if c.room(8) {
		binary.LittleEndian.PutUint64(c.buf[c.p:], v)
		c.p += 8
	}
}

func (c *chunk) bytes(b []byte) {
	if c.room(len(b)) {
		c.p += copy(c.buf[c.p:], b)
	}
}

// patch32 stores v at off, a position written earlier in this record.
func (c *chunk) patch32(off int, v int) {
	if !c.over {
		binary.LittleEndian.PutUint32(c.buf[off:], uint32(v))
	}
}

// utf16 writes s as UTF-16LE without a terminator.
func (c *chunk) utf16(s string) {
	for _, r := range s {
		if r >= 0x10000 {
			r1, r2 := utf16.EncodeRune(r)
			c.u16(uint16(r1))
			c.u16(uint16(r2))
			continue
		}
		c.u16(uint16(r))
	}
}

// name writes a name reference, defining the name inline the first time the chunk uses it.
func (c *chunk) name(s string) {
	if off, ok := c.names[s]; ok {
		c.u32(off)
		return
	}
	off := uint32(c.p + 4)
	c.u32(off)
	h := nameHash(s)
	b := h % 64
	c.u32(c.strTab[b])
	c.u16(h)
	c.u16(uint16(utf16Len(s)))
	c.utf16(s)
	c.u16(0)
	if c.over {
		return
	}
	c.strTab[b] = off
	c.names[s] = off
	c.addedNames = append(c.addedNames, s)
}

// Binary XML tokens.
const (
	tokEOF          = 0x00
	tokOpen         = 0x01
	tokOpenAttrs    = 0x41
	tokCloseStart   = 0x02
	tokCloseEmpty   = 0x03
	tokEnd          = 0x04
	tokValue        = 0x05
	tokAttr         = 0x06
	tokAttrMore     = 0x46
	tokTemplate     = 0x0c
	tokSubst        = 0x0d
	tokOptSubst     = 0x0e
	tokFragment     = 0x0f
	noDependency    = 0xffff
	fragmentVersion = 0x0101
)

// open starts an element in a template and returns the offset of its size field.
func (c *chunk) open(name string, attrs bool, dep uint16) int {
	if attrs {
		c.u8(tokOpenAttrs)
	} else {
		c.u8(tokOpen)
	}
	c.u16(dep)
	at := c.p
	c.u32(0)
	c.name(name)
	return at
}

// attrs starts an attribute list and returns the offset of its size field.
func (c *chunk) attrs() int {
	at := c.p
	c.u32(0)
	return at
}

func (c *chunk) endAttrs(at int) { c.patch32(at, c.p-(at+4)) }

func (c *chunk) attr(name string, more bool) {
	if more {
		c.u8(tokAttrMore)
	} else {
		c.u8(tokAttr)
	}
	c.name(name)
}

func (c *chunk) text(s string) {
	c.u8(tokValue)
	c.u8(typeString)
	c.u16(uint16(utf16Len(s)))
	c.utf16(s)
}

func (c *chunk) subst(id int, typ byte, optional bool) {
	if optional {
		c.u8(tokOptSubst)
	} else {
		c.u8(tokSubst)
	}
	c.u16(uint16(id))
	c.u8(typ)
}

func (c *chunk) closeEmpty(at int) {
	c.u8(tokCloseEmpty)
	c.patch32(at, c.p-(at+4))
}

func (c *chunk) end(at int) {
	c.u8(tokEnd)
	c.patch32(at, c.p-(at+4))
}

// substElem writes <name>%id</name> with an optional substitution the element depends on.
func (c *chunk) substElem(name string, id int, typ byte) {
	at := c.open(name, false, uint16(id))
	c.u8(tokCloseStart)
	c.subst(id, typ, true)
	c.end(at)
}

// textElem writes <name>text</name>. Empty text stays an empty value rather than <name/>:
// some readers expand an empty element inside a template to substitution 0.
func (c *chunk) textElem(name, text string) {
	at := c.open(name, false, noDependency)
	c.u8(tokCloseStart)
	c.text(text)
	c.end(at)
}

// emptyElem writes <name a1=%id1 a2=%id2 …/> with optional substitutions.
func (c *chunk) emptyElem(name string, attrNames []string, ids []int, types []byte) {
	at := c.open(name, true, noDependency)
	al := c.attrs()
	for i, a := range attrNames {
		c.attr(a, i < len(attrNames)-1)
		c.subst(ids[i], types[i], true)
	}
	c.endAttrs(al)
	c.closeEmpty(at)
}

// templateBody writes the Binary XML fragment of template t.
func (c *chunk) templateBody(t *template) {
	c.u8(tokFragment)
	c.u16(fragmentVersion)
	c.u8(0)

	ev := c.open("Event", true, noDependency)
	al := c.attrs()
	c.attr("xmlns", false)
	c.text(eventNS)
	c.endAttrs(al)
	c.u8(tokCloseStart)

	sys := c.open("System", false, noDependency)
	c.u8(tokCloseStart)

	at := c.open("Provider", true, noDependency)
	al = c.attrs()
	c.attr("Name", t.providerGUID != "")
	c.text(t.provider)
	if t.providerGUID != "" {
		c.attr("Guid", false)
		c.text(t.providerGUID)
	}
	c.endAttrs(al)
	c.closeEmpty(at)

	at = c.open("EventID", true, subEventID)
	al = c.attrs()
	c.attr("Qualifiers", false)
	c.subst(subQualifiers, typeUInt16, true)
	c.endAttrs(al)
	c.u8(tokCloseStart)
	c.subst(subEventID, typeUInt16, true)
	c.end(at)

	c.substElem("Version", subVersion, typeUInt8)
	c.substElem("Level", subLevel, typeUInt8)
	c.substElem("Task", subTask, typeUInt16)
	c.substElem("Opcode", subOpcode, typeUInt8)
	c.substElem("Keywords", subKeywords, typeHexInt64)
	c.emptyElem("TimeCreated", []string{"SystemTime"}, []int{subTimeCreated}, []byte{typeFileTime})
	c.substElem("EventRecordID", subRecordID, typeUInt64)
	c.emptyElem("Correlation", []string{"ActivityID", "RelatedActivityID"},
		[]int{subActivityID, subRelatedActivityID}, []byte{typeGUID, typeGUID})
	c.emptyElem("Execution", []string{"ProcessID", "ThreadID"},
		[]int{subProcessID, subThreadID}, []byte{typeUInt32, typeUInt32})
	c.textElem("Channel", t.channel)
	c.textElem("Computer", t.computer)
	c.emptyElem("Security", []string{"UserID"}, []int{subUserID}, []byte{typeSID})
	c.end(sys)

	switch {
	case t.userData == "" && len(t.names) > 0:
		// An event without fields has no EventData element: an empty element inside a
		// template is read as substitution 0 by some readers.
		ed := c.open("EventData", false, noDependency)
		c.u8(tokCloseStart)
		for i, n := range t.names {
			d := c.open("Data", true, noDependency)
			al := c.attrs()
			c.attr("Name", false)
			c.text(n)
			c.endAttrs(al)
			c.u8(tokCloseStart)
			c.subst(sysValues+i, t.types[i], false)
			c.end(d)
		}
		c.end(ed)
	case t.userData != "":
		ud := c.open("UserData", false, noDependency)
		c.u8(tokCloseStart)
		x := c.open(t.userData, t.userDataNS != "", noDependency)
		if t.userDataNS != "" {
			al := c.attrs()
			c.attr("xmlns", false)
			c.text(t.userDataNS)
			c.endAttrs(al)
		}
		c.u8(tokCloseStart)
		for i, n := range t.names {
			d := c.open(n, false, noDependency)
			c.u8(tokCloseStart)
			c.subst(sysValues+i, t.types[i], false)
			c.end(d)
		}
		c.end(x)
		c.end(ud)
	}
	c.end(ev)
	c.u8(tokEOF)
}

// appendRecord writes one record. It returns false, leaving the chunk as it was, when the
// record does not fit or its template id is taken by another template in this chunk.
func (c *chunk) appendRecord(e *Event, t *template, types []byte, id, ft uint64) bool {
	start := c.p
	c.savedStr, c.savedTmpl = c.strTab, c.tmplTab
	c.addedNames = c.addedNames[:0]
	c.added = nil

	c.u32(0x00002a2a)
	sizeAt := c.p
	c.u32(0)
	c.u64(id)
	c.u64(ft)

	c.u8(tokFragment)
	c.u16(fragmentVersion)
	c.u8(0)
	c.u8(tokTemplate)
	c.u8(0x01)
	c.u32(t.id)
	if off, ok := c.tmpls[t.key]; ok {
		c.u32(off)
	} else {
		if c.ids[t.id] {
			c.rollback(start)
			return false
		}
		off := uint32(c.p + 4)
		c.u32(off)
		c.u32(c.tmplTab[t.bucket])
		c.bytes(t.guid[:])
		sz := c.p
		c.u32(0)
		c.templateBody(t)
		c.patch32(sz, c.p-(sz+4))
		if !c.over {
			c.tmplTab[t.bucket] = off
			c.tmpls[t.key] = off
			c.ids[t.id] = true
			c.added = t
		}
	}
	c.values(e, types, id, ft)
	c.u8(tokEOF)
	for !c.over && (c.p+4-start)%8 != 0 {
		c.u8(0)
	}
	c.u32(uint32(c.p + 4 - start))
	c.patch32(sizeAt, c.p-start)
	if c.over {
		c.rollback(start)
		return false
	}
	if c.count == 0 {
		c.firstID = id
	}
	c.count++
	c.lastID = id
	c.lastRecord = start
	return true
}

func (c *chunk) rollback(start int) {
	c.p = start
	c.over = false
	c.strTab, c.tmplTab = c.savedStr, c.savedTmpl
	for _, n := range c.addedNames {
		delete(c.names, n)
	}
	c.addedNames = c.addedNames[:0]
	if c.added != nil {
		delete(c.ids, c.added.id)
		delete(c.tmpls, c.added.key)
		c.added = nil
	}
}

// values writes the template instance data: count, descriptors, values.
func (c *chunk) values(e *Event, types []byte, id, ft uint64) {
	n := sysValues + len(e.Fields)
	c.u32(uint32(n))
	desc := c.p
	if !c.room(4 * n) {
		return
	}
	c.p += 4 * n
	put := func(i, start int, typ byte) {
		size := c.p - start
		if c.over {
			return
		}
		if size == 0 && typ != typeString {
			typ = typeNull
		}
		binary.LittleEndian.PutUint16(c.buf[desc+4*i:], uint16(size))
		c.buf[desc+4*i+2] = typ
		c.buf[desc+4*i+3] = 0
	}
	for i := range sysValues {
		s := c.p
		typ := byte(typeNull)
		switch i {
		case subLevel:
			c.u8(e.Level)
			typ = typeUInt8
		case subOpcode:
			c.u8(e.Opcode)
			typ = typeUInt8
		case subTask:
			c.u16(e.Task)
			typ = typeUInt16
		case subEventID:
			c.u16(uint16(e.EventID))
			typ = typeUInt16
		case subQualifiers:
			if e.Qualifiers != 0 {
				c.u16(uint16(e.Qualifiers))
				typ = typeUInt16
			}
		case subKeywords:
			c.u64(e.Keywords)
			typ = typeHexInt64
		case subTimeCreated:
			c.u64(ft)
			typ = typeFileTime
		case subProcessID:
			c.u32(e.ProcessID)
			typ = typeUInt32
		case subThreadID:
			c.u32(e.ThreadID)
			typ = typeUInt32
		case subRecordID:
			c.u64(id)
			typ = typeUInt64
		case subVersion:
			c.u8(e.Version)
			typ = typeUInt8
		}
		put(i, s, typ)
	}
	for i, f := range e.Fields {
		s := c.p
		switch types[i] {
		case typeHexInt32:
			v, _ := parseHex(f.Value)
			c.u32(uint32(v))
		case typeHexInt64:
			v, _ := parseHex(f.Value)
			c.u64(v)
		case typeSID:
			c.scratch, _ = encodeSID(c.scratch[:0], f.Value)
			c.bytes(c.scratch)
		case typeGUID:
			c.scratch, _ = encodeGUID(c.scratch[:0], f.Value)
			c.bytes(c.scratch)
		default:
			c.utf16(f.Value)
		}
		put(sysValues+i, s, types[i])
	}
}

// finish fills in the chunk header; records numbered first..last are in the chunk.
func (c *chunk) finish(first, last uint64) {
	clear(c.buf[c.p:])
	h := c.buf[:chunkHeaderSize]
	le := binary.LittleEndian
	copy(h, "ElfChnk\x00")
	le.PutUint64(h[8:], first)
	le.PutUint64(h[16:], last)
	le.PutUint64(h[24:], c.firstID)
	le.PutUint64(h[32:], c.lastID)
	le.PutUint32(h[40:], 128)
	le.PutUint32(h[44:], uint32(c.lastRecord))
	le.PutUint32(h[48:], uint32(c.p))
	le.PutUint32(h[52:], crc32.ChecksumIEEE(c.buf[chunkHeaderSize:c.p]))
	for i, v := range c.strTab {
		le.PutUint32(h[128+4*i:], v)
	}
	for i, v := range c.tmplTab {
		le.PutUint32(h[384+4*i:], v)
	}
	crc := crc32.Update(crc32.ChecksumIEEE(h[:120]), crc32.IEEETable, h[128:chunkHeaderSize])
	le.PutUint32(h[124:], crc)
}
