package evtx

import (
	"encoding/binary"
	"errors"
	"math"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/castellan-itdr/castellan/mappings/windows"
)

// Limits that bound the work and memory spent on one record, whatever the
// input says.
const (
	maxDepth      = 64       // element and template/BinXml nesting
	maxSubst      = 1024     // substitutions of one template instance
	maxData       = 4096     // Data entries of one record
	maxValue      = 64 << 10 // bytes of one field value (UTF-8), longer ones are cut
	maxRecordText = 1 << 20  // bytes of field text of one record
	maxSteps      = 1 << 18  // template ops executed for one record
	maxInternLen  = 256      // longer strings are not interned
	maxInterned   = 8192     // interned strings kept by one reader
)

var (
	errBounds      = errors.New("binary XML runs past its bounds")
	errToken       = errors.New("unknown binary XML token")
	errDepth       = errors.New("binary XML nested too deep")
	errTooComplex  = errors.New("record expands to too much work")
	errTooManySubs = errors.New("too many substitutions")
	errNotTemplate = errors.New("template definition out of bounds")
)

// ctx is where in the event an element or value sits; it decides what a
// value is used for. Computed once per template definition.
type ctx uint8

const (
	cIgnore ctx = iota
	cRoot
	cEvent
	cSystem
	cEventID
	cProvider
	cChannel
	cComputer
	cTimeCreated
	cEventData
	cData     // EventData/Data: keyed by @Name or numbered
	cUserData // UserData
	cUserX    // the single child of UserData
	cLeaf     // a field keyed by its element name
)

// collects reports whether text inside an element of this kind is kept.
func (c ctx) collects() bool {
	switch c {
	case cEventID, cChannel, cComputer, cData, cLeaf:
		return true
	}
	return false
}

// child is the kind of an element named name inside an element of kind c.
func (c ctx) child(name string) ctx {
	switch c {
	case cRoot:
		if name == "Event" {
			return cEvent
		}
		// A fragment without the Event element (nested BinXml).
		return cEvent.child(name)
	case cEvent:
		switch name {
		case "System":
			return cSystem
		case "EventData":
			return cEventData
		case "UserData":
			return cUserData
		}
	case cSystem:
		switch name {
		case "EventID":
			return cEventID
		case "Provider":
			return cProvider
		case "Channel":
			return cChannel
		case "Computer":
			return cComputer
		case "TimeCreated":
			return cTimeCreated
		}
	case cEventData:
		if name == "Data" {
			return cData
		}
		return cLeaf
	case cUserData:
		return cUserX
	case cUserX, cLeaf, cData:
		return cLeaf
	}
	return cIgnore
}

// Attribute roles.
const (
	aNone uint8 = iota
	aProvider
	aTime
	aDataName
)

func attrRole(c ctx, name string) uint8 {
	switch {
	case c == cProvider && name == "Name":
		return aProvider
	case c == cTimeCreated && name == "SystemTime":
		return aTime
	case c == cData && name == "Name":
		return aDataName
	}
	return aNone
}

// Op kinds of a compiled template or fragment.
const (
	opOpen     uint8 = iota + 1 // push an element (ctx, key)
	opEnd                       // pop it
	opText                      // constant text (s) into the element
	opAttrText                  // constant attribute text (s) for role
	opSubst                     // substitution idx into the element or attribute role
	opInstance                  // template instance: t, values at pos
)

type op struct {
	kind  uint8
	ctx   ctx   // opOpen: kind of the element
	role  uint8 // opAttrText, opSubst: attribute role (aNone: element content)
	named bool  // opOpen of cData: has a constant Name
	idx   uint16
	pos   int32 // opInstance: offset of the value descriptors
	s     string
	t     *tmpl
}

// tmpl is one template definition compiled for one starting context.
type tmpl struct {
	ops []op
}

// sub is one substitution value of a template instance.
type sub struct {
	pos  int32
	size uint16
	typ  uint8
}

// frame is an open element during execution.
type frame struct {
	ctx      ctx
	named    bool
	hasChild bool
	start    int32 // start of its text in acc
	key      string
	keyStart int32 // dynamic key (Data @Name from a substitution): in keyBuf
}

// field is a Data entry waiting for the record's text to become a string.
type field struct {
	key        string
	start, end int32
}

// decoder turns the binary XML of one chunk's records into Records.
type decoder struct {
	b      []byte // the chunk
	names  map[uint32]string
	tmpls  map[uint64]*tmpl
	intern map[string]string

	// per record
	rec     *windows.Record
	frames  []frame
	acc     []byte
	keyBuf  []byte
	fields  []field
	unnamed int
	steps   int
	depth   int
	subs    [][]sub // per nesting level
	scratch [][]op  // per nesting level, fragment ops
}

func (d *decoder) init() {
	d.names = make(map[uint32]string)
	d.tmpls = make(map[uint64]*tmpl)
	d.intern = make(map[string]string)
}

// reset starts a new chunk.
func (d *decoder) reset(b []byte) {
	d.b = b
	clear(d.names)
	clear(d.tmpls)
}

// prime decodes a record that will not be returned, for the template
// definitions it holds. Errors are ignored: the record is not wanted.
func (d *decoder) prime(p, e int) {
	var rec windows.Record
	_ = d.record(&rec, p, e)
}

// record decodes the binary XML at b[p:e] into rec.
func (d *decoder) record(rec *windows.Record, p, e int) (err error) {
	d.rec = rec
	d.frames = append(d.frames[:0], frame{ctx: cRoot})
	d.acc = d.acc[:0]
	d.keyBuf = d.keyBuf[:0]
	d.fields = d.fields[:0]
	d.unnamed, d.steps, d.depth = 0, 0, 0
	if err := d.fragment(p, e, cRoot); err != nil {
		return err
	}
	if len(d.fields) > 0 {
		s := string(d.acc)
		rec.Data = make(map[string]string, len(d.fields))
		for _, f := range d.fields {
			rec.Data[f.key] = s[f.start:f.end]
		}
	}
	return nil
}

// fragment compiles and runs a binary XML fragment outside a template
// (a record body or a BinXml substitution value).
func (d *decoder) fragment(p, e int, c ctx) error {
	if d.depth >= maxDepth {
		return errDepth
	}
	d.depth++
	defer func() { d.depth-- }()
	lvl := d.depth
	for len(d.scratch) <= lvl {
		d.scratch = append(d.scratch, nil)
	}
	cp := compiler{d: d, p: p, e: e, out: d.scratch[lvl][:0], inTemplate: false}
	cp.stack[0] = c
	cp.n = 1
	if err := cp.run(); err != nil {
		return err
	}
	d.scratch[lvl] = cp.out
	return d.exec(cp.out, nil)
}

// exec runs compiled ops with the substitution values subs.
func (d *decoder) exec(ops []op, subs []sub) error {
	d.steps += len(ops)
	if d.steps > maxSteps {
		return errTooComplex
	}
	for i := range ops {
		o := &ops[i]
		switch o.kind {
		case opOpen:
			if err := d.open(o.ctx, o.s, o.named); err != nil {
				return err
			}
		case opEnd:
			d.end()
		case opText:
			top := &d.frames[len(d.frames)-1]
			if top.ctx.collects() {
				if err := d.appendText(o.s); err != nil {
					return err
				}
			}
		case opAttrText:
			d.attr(o.role, []byte(o.s))
		case opSubst:
			if int(o.idx) >= len(subs) {
				continue // missing value renders as nothing
			}
			if err := d.subst(o.role, subs[o.idx]); err != nil {
				return err
			}
		case opInstance:
			if err := d.instance(o.t, int(o.pos)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (d *decoder) open(c ctx, key string, named bool) error {
	if len(d.frames) >= maxDepth {
		return errDepth
	}
	d.frames[len(d.frames)-1].hasChild = true
	d.frames = append(d.frames, frame{ctx: c, key: key, named: named, start: int32(len(d.acc)), keyStart: -1})
	return nil
}

func (d *decoder) end() {
	if len(d.frames) <= 1 {
		return
	}
	f := d.frames[len(d.frames)-1]
	d.frames = d.frames[:len(d.frames)-1]
	v := d.acc[f.start:]
	if f.ctx != cData && f.ctx != cLeaf {
		v = v[:cutUTF8(v, maxValue)]
	}
	switch f.ctx {
	case cEventID:
		if n, ok := atoi(v); ok {
			d.rec.EventID = n
		}
		d.acc = d.acc[:f.start]
	case cChannel:
		d.rec.Channel = d.internBytes(v)
		d.acc = d.acc[:f.start]
	case cComputer:
		d.rec.Computer = d.internBytes(v)
		d.acc = d.acc[:f.start]
	case cData, cLeaf:
		if f.hasChild {
			return
		}
		key := f.key
		if f.keyStart >= 0 {
			key = d.internBytes(d.keyBuf[f.keyStart:])
			d.keyBuf = d.keyBuf[:f.keyStart]
		}
		if key == "" {
			d.unnamed++
			key = dataKey(d.unnamed)
		}
		if len(d.fields) >= maxData {
			return
		}
		end := len(d.acc)
		if end-int(f.start) > maxValue {
			end = int(f.start) + cutUTF8(d.acc[f.start:], maxValue)
		}
		d.fields = append(d.fields, field{key: key, start: f.start, end: int32(end)})
	}
}

// attr takes an attribute value piece for role.
func (d *decoder) attr(role uint8, v []byte) {
	v = v[:cutUTF8(v, maxValue)]
	switch role {
	case aProvider:
		d.rec.Provider = d.internBytes(v)
	case aTime:
		if t, err := time.Parse(time.RFC3339Nano, string(v)); err == nil {
			d.rec.Time = t.UTC()
		}
	case aDataName:
		top := &d.frames[len(d.frames)-1]
		if top.keyStart < 0 {
			top.keyStart = int32(len(d.keyBuf))
		}
		if len(d.keyBuf)+len(v) <= maxValue {
			d.keyBuf = append(d.keyBuf, v...)
		}
	}
}

func (d *decoder) appendText(s string) error {
	if len(d.acc)+len(s) > maxRecordText {
		return errTooComplex
	}
	d.acc = append(d.acc, s...)
	return nil
}

// subst renders one substitution value in place.
func (d *decoder) subst(role uint8, s sub) error {
	top := &d.frames[len(d.frames)-1]
	p, n := int(s.pos), int(s.size)
	if s.typ == 0x21 { // BinXml
		if role != aNone || top.ctx == cIgnore {
			return nil
		}
		return d.fragment(p, p+n, top.ctx)
	}
	switch {
	case role == aTime && s.typ == 0x11 && n == 8:
		if t := filetime(binary.LittleEndian.Uint64(d.b[p:])); !t.IsZero() {
			d.rec.Time = t
		}
	case role != aNone:
		start := len(d.acc)
		d.acc = appendValue(d.acc, s.typ, d.b[p:p+n])
		d.attr(role, d.acc[start:])
		d.acc = d.acc[:start]
	case top.ctx == cData && s.typ == 0x81 && top.key == "" && top.keyStart < 0 && int(top.start) == len(d.acc):
		// A string array as the whole of an unnamed Data element: Windows
		// renders one <Data> per item (classic providers: PowerShell
		// 800, MSSQL, Exchange).
		return d.splitArray(top, d.b[p:p+n])
	case top.ctx.collects():
		if len(d.acc)+3*n > maxRecordText+3*maxValue {
			return errTooComplex
		}
		d.acc = appendValue(d.acc, s.typ, d.b[p:p+n])
		if len(d.acc) > maxRecordText {
			return errTooComplex
		}
	}
	return nil
}

// splitArray emits each NUL-terminated UTF-16 string of b as its own
// numbered Data field; the enclosing element then emits nothing.
func (d *decoder) splitArray(top *frame, b []byte) error {
	top.hasChild = true
	for len(b) >= 2 {
		i := 0
		for i+1 < len(b) && (b[i] != 0 || b[i+1] != 0) {
			i += 2
		}
		start := len(d.acc)
		d.acc = appendUTF16(d.acc, b[:i&^1])
		if len(d.acc) > maxRecordText {
			return errTooComplex
		}
		d.unnamed++
		if len(d.fields) < maxData {
			end := start + cutUTF8(d.acc[start:], maxValue)
			d.fields = append(d.fields, field{key: dataKey(d.unnamed), start: int32(start), end: int32(end)})
		}
		if i+2 > len(b) {
			break
		}
		b = b[i+2:]
	}
	return nil
}

// instance reads the value descriptors of a template instance at p and
// runs the template.
func (d *decoder) instance(t *tmpl, p int) error {
	if d.depth >= maxDepth {
		return errDepth
	}
	d.depth++
	defer func() { d.depth-- }()
	b := d.b
	if p+4 > len(b) {
		return errBounds
	}
	n := int(binary.LittleEndian.Uint32(b[p:]))
	if n > maxSubst {
		return errTooManySubs
	}
	p += 4
	if p+4*n > len(b) {
		return errBounds
	}
	lvl := d.depth
	for len(d.subs) <= lvl {
		d.subs = append(d.subs, nil)
	}
	subs := d.subs[lvl][:0]
	v := p + 4*n
	for i := 0; i < n; i++ {
		size := binary.LittleEndian.Uint16(b[p:])
		typ := b[p+2]
		p += 4
		subs = append(subs, sub{pos: int32(v), size: size, typ: typ})
		v += int(size)
	}
	if v > len(b) {
		return errBounds
	}
	d.subs[lvl] = subs
	return d.exec(t.ops, subs)
}

// internBytes returns v as a string, shared with earlier equal strings.
func (d *decoder) internBytes(v []byte) string {
	if len(v) > maxInternLen {
		return string(v)
	}
	if s, ok := d.intern[string(v)]; ok {
		return s
	}
	s := string(v)
	if len(d.intern) < maxInterned {
		d.intern[s] = s
	}
	return s
}

func (d *decoder) internString(s string) string {
	if len(s) > maxInternLen {
		return s
	}
	if v, ok := d.intern[s]; ok {
		return v
	}
	if len(d.intern) < maxInterned {
		d.intern[s] = s
	}
	return s
}

var dataKeys = func() []string {
	k := make([]string, 65)
	for i := range k {
		k[i] = "Data" + strconv.Itoa(i)
	}
	return k
}()

func dataKey(n int) string {
	if n < len(dataKeys) {
		return dataKeys[n]
	}
	return "Data" + strconv.Itoa(n)
}

func atoi(v []byte) (int, bool) {
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t' || v[0] == '\n' || v[0] == '\r') {
		v = v[1:]
	}
	for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t' || v[len(v)-1] == '\n' || v[len(v)-1] == '\r') {
		v = v[:len(v)-1]
	}
	if len(v) == 0 || len(v) > 10 {
		return 0, false
	}
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// cutUTF8 returns the largest length ≤ max that ends on a rune boundary.
func cutUTF8(b []byte, max int) int {
	if len(b) <= max {
		return len(b)
	}
	n := max
	for n > 0 && !utf8.RuneStart(b[n]) {
		n--
	}
	return n
}

// filetime converts a FILETIME (100 ns ticks since 1601) to UTC.
func filetime(ft uint64) time.Time {
	const epochDiff = 116444736000000000 // 1601 → 1970 in 100 ns
	if ft < epochDiff {
		return time.Time{}
	}
	t := ft - epochDiff
	return time.Unix(int64(t/1e7), int64(t%1e7)*100).UTC()
}

// appendUTF16 appends UTF-16LE b as UTF-8, dropping trailing NULs.
func appendUTF16(dst, b []byte) []byte {
	n := len(b) &^ 1
	for n >= 2 && b[n-1] == 0 && b[n-2] == 0 {
		n -= 2
	}
	for i := 0; i < n; i += 2 {
		c := uint16(b[i]) | uint16(b[i+1])<<8
		switch {
		case c < 0x80:
			dst = append(dst, byte(c))
		case utf16.IsSurrogate(rune(c)):
			r := utf8.RuneError
			if i+3 < n {
				c2 := uint16(b[i+2]) | uint16(b[i+3])<<8
				if r2 := utf16.DecodeRune(rune(c), rune(c2)); r2 != utf8.RuneError {
					r = r2
					i += 2
				}
			}
			dst = utf8.AppendRune(dst, r)
		default:
			dst = utf8.AppendRune(dst, rune(c))
		}
	}
	return dst
}

const hexUpper = "0123456789ABCDEF"

// appendValue renders a substitution value of type typ the way Windows
// renders it in event XML.
func appendValue(dst []byte, typ uint8, b []byte) []byte {
	le := binary.LittleEndian
	if typ&0x80 != 0 {
		return appendArray(dst, typ&0x7f, b)
	}
	switch typ {
	case 0x00:
		return dst
	case 0x01:
		return appendUTF16(dst, b)
	case 0x02:
		for len(b) > 0 && b[len(b)-1] == 0 {
			b = b[:len(b)-1]
		}
		for _, c := range b {
			if c < 0x80 {
				dst = append(dst, c)
			} else { // Windows-1252 upper half, approximated as Latin-1
				dst = utf8.AppendRune(dst, rune(c))
			}
		}
		return dst
	case 0x03:
		if len(b) >= 1 {
			return strconv.AppendInt(dst, int64(int8(b[0])), 10)
		}
	case 0x04:
		if len(b) >= 1 {
			return strconv.AppendUint(dst, uint64(b[0]), 10)
		}
	case 0x05:
		if len(b) >= 2 {
			return strconv.AppendInt(dst, int64(int16(le.Uint16(b))), 10)
		}
	case 0x06:
		if len(b) >= 2 {
			return strconv.AppendUint(dst, uint64(le.Uint16(b)), 10)
		}
	case 0x07:
		if len(b) >= 4 {
			return strconv.AppendInt(dst, int64(int32(le.Uint32(b))), 10)
		}
	case 0x08:
		if len(b) >= 4 {
			return strconv.AppendUint(dst, uint64(le.Uint32(b)), 10)
		}
	case 0x09:
		if len(b) >= 8 {
			return strconv.AppendInt(dst, int64(le.Uint64(b)), 10)
		}
	case 0x0a:
		if len(b) >= 8 {
			return strconv.AppendUint(dst, le.Uint64(b), 10)
		}
	case 0x0b:
		if len(b) >= 4 {
			return strconv.AppendFloat(dst, float64(math.Float32frombits(le.Uint32(b))), 'g', -1, 32)
		}
	case 0x0c:
		if len(b) >= 8 {
			return strconv.AppendFloat(dst, math.Float64frombits(le.Uint64(b)), 'g', -1, 64)
		}
	case 0x0d:
		v := false
		for _, c := range b {
			v = v || c != 0
		}
		return strconv.AppendBool(dst, v)
	case 0x0e:
		for _, c := range b {
			dst = append(dst, hexUpper[c>>4], hexUpper[c&15])
		}
		return dst
	case 0x0f:
		if len(b) >= 16 {
			return appendGUID(dst, b)
		}
	case 0x10:
		switch len(b) {
		case 4:
			return appendHex(dst, uint64(le.Uint32(b)))
		case 8:
			return appendHex(dst, le.Uint64(b))
		}
	case 0x11:
		if len(b) >= 8 {
			if t := filetime(le.Uint64(b)); !t.IsZero() {
				return t.AppendFormat(dst, time.RFC3339Nano)
			}
			return dst
		}
	case 0x12:
		if len(b) >= 16 {
			t := time.Date(int(le.Uint16(b)), time.Month(le.Uint16(b[2:])), int(le.Uint16(b[6:])),
				int(le.Uint16(b[8:])), int(le.Uint16(b[10:])), int(le.Uint16(b[12:])),
				int(le.Uint16(b[14:]))*int(time.Millisecond), time.UTC)
			return t.AppendFormat(dst, time.RFC3339Nano)
		}
	case 0x13:
		return appendSID(dst, b)
	case 0x14:
		if len(b) >= 4 {
			return appendHex(dst, uint64(le.Uint32(b)))
		}
	case 0x15:
		if len(b) >= 8 {
			return appendHex(dst, le.Uint64(b))
		}
	default:
		// Unknown or handle types: hex of the raw bytes.
		for _, c := range b {
			dst = append(dst, hexUpper[c>>4], hexUpper[c&15])
		}
		return dst
	}
	return dst
}

// appendArray renders an array value, elements separated by ", ".
func appendArray(dst []byte, typ uint8, b []byte) []byte {
	var size int
	switch typ {
	case 0x01: // NUL-terminated UTF-16 strings
		first := true
		for len(b) >= 2 {
			i := 0
			for i+1 < len(b) && (b[i] != 0 || b[i+1] != 0) {
				i += 2
			}
			if !first {
				dst = append(dst, ", "...)
			}
			first = false
			dst = appendUTF16(dst, b[:i&^1])
			if i+2 > len(b) {
				break
			}
			b = b[i+2:]
		}
		return dst
	case 0x02:
		parts := b
		first := true
		for len(parts) > 0 {
			i := 0
			for i < len(parts) && parts[i] != 0 {
				i++
			}
			if !first {
				dst = append(dst, ", "...)
			}
			first = false
			dst = appendValue(dst, 0x02, parts[:i])
			if i >= len(parts) {
				break
			}
			parts = parts[i+1:]
		}
		return dst
	case 0x03, 0x04:
		size = 1
	case 0x05, 0x06:
		size = 2
	case 0x07, 0x08, 0x0b, 0x0d, 0x14:
		size = 4
	case 0x09, 0x0a, 0x0c, 0x11, 0x15:
		size = 8
	case 0x0f, 0x12:
		size = 16
	default:
		return appendValue(dst, 0x0e, b)
	}
	for i := 0; i+size <= len(b); i += size {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = appendValue(dst, typ, b[i:i+size])
	}
	return dst
}

func appendHex(dst []byte, v uint64) []byte {
	dst = append(dst, '0', 'x')
	return strconv.AppendUint(dst, v, 16)
}

// appendGUID renders a GUID as Windows renders a GUID-typed value in event
// XML (StringFromGUID2): {XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}, upper
// case. GUIDs that providers log as strings keep their own case.
func appendGUID(dst []byte, b []byte) []byte {
	le := binary.LittleEndian
	dst = append(dst, '{')
	dst = appendHexN(dst, uint64(le.Uint32(b)), 8)
	dst = append(dst, '-')
	dst = appendHexN(dst, uint64(le.Uint16(b[4:])), 4)
	dst = append(dst, '-')
	dst = appendHexN(dst, uint64(le.Uint16(b[6:])), 4)
	dst = append(dst, '-')
	for i := 8; i < 16; i++ {
		if i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hexUpper[b[i]>>4], hexUpper[b[i]&15])
	}
	return append(dst, '}')
}

func appendHexN(dst []byte, v uint64, n int) []byte {
	for i := n - 1; i >= 0; i-- {
		dst = append(dst, hexUpper[(v>>(4*uint(i)))&15])
	}
	return dst
}

// appendSID renders a binary SID as S-1-5-21-...
func appendSID(dst []byte, b []byte) []byte {
	if len(b) < 8 {
		return appendValue(dst, 0x0e, b)
	}
	n := int(b[1])
	if 8+4*n > len(b) {
		n = (len(b) - 8) / 4
	}
	dst = append(dst, 'S', '-')
	dst = strconv.AppendUint(dst, uint64(b[0]), 10)
	var auth uint64
	for _, c := range b[2:8] {
		auth = auth<<8 | uint64(c)
	}
	dst = append(dst, '-')
	dst = strconv.AppendUint(dst, auth, 10)
	for i := 0; i < n; i++ {
		dst = append(dst, '-')
		dst = strconv.AppendUint(dst, uint64(binary.LittleEndian.Uint32(b[8+4*i:])), 10)
	}
	return dst
}
