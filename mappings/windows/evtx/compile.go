package evtx

import (
	"encoding/binary"
	"unicode/utf8"
)

// compiler turns a binary XML token stream into ops, resolving names and
// the context of every element once. Inside a template definition it emits
// substitutions; outside, it compiles (or reuses) the template definitions
// that instances refer to.
type compiler struct {
	d          *decoder
	p, e       int
	out        []op
	inTemplate bool
	stack      [maxDepth + 1]ctx
	opens      [maxDepth + 1]int // index in out of each open element's opOpen
	n          int               // stack depth (stack[0] is the start context)
	attr       uint8             // role of the attribute being read
	inAttr     bool
	attrs      bool // between open element and close start
	lastOpen   int  // index of the element whose start tag is open
}

func (c *compiler) u8() (byte, bool) {
	if c.p+1 > c.e {
		return 0, false
	}
	v := c.d.b[c.p]
	c.p++
	return v, true
}

func (c *compiler) u16() (uint16, bool) {
	if c.p+2 > c.e {
		return 0, false
	}
	v := binary.LittleEndian.Uint16(c.d.b[c.p:])
	c.p += 2
	return v, true
}

func (c *compiler) u32() (uint32, bool) {
	if c.p+4 > c.e {
		return 0, false
	}
	v := binary.LittleEndian.Uint32(c.d.b[c.p:])
	c.p += 4
	return v, true
}

// utf16 reads n UTF-16 code units as a UTF-8 string.
func (c *compiler) utf16(n int) (string, bool) {
	if n < 0 || c.p+2*n > c.e {
		return "", false
	}
	var buf [128]byte
	s := appendUTF16(buf[:0], c.d.b[c.p:c.p+2*n])
	c.p += 2 * n
	return c.d.internBytes(s), true
}

// name reads a name reference; an inline name (defined right here) is
// skipped over.
func (c *compiler) name() (string, bool) {
	off, ok := c.u32()
	if !ok {
		return "", false
	}
	s, size, ok := c.d.name(off)
	if !ok {
		return "", false
	}
	if int(off) == c.p {
		if c.p+size > c.e {
			return "", false
		}
		c.p += size
	}
	return s, true
}

// name resolves the name structure at chunk offset off: next offset (4),
// hash (2), length in UTF-16 units (2), the string and a NUL. It returns
// the name and the size of the structure.
func (d *decoder) name(off uint32) (string, int, bool) {
	b := d.b
	if int64(off)+8 > int64(len(b)) {
		return "", 0, false
	}
	n := int(binary.LittleEndian.Uint16(b[off+6:]))
	size := 8 + 2*n + 2
	if int(off)+size > len(b) {
		return "", 0, false
	}
	if s, ok := d.names[off]; ok {
		return s, size, true
	}
	var buf [128]byte
	s := d.internBytes(appendUTF16(buf[:0], b[int(off)+8:int(off)+8+2*n]))
	d.names[off] = s
	return s, size, true
}

// depID returns 2 when the element start at c.p carries a dependency id,
// else 0.
func (c *compiler) depID() int {
	b := c.d.b
	le := binary.LittleEndian
	if c.p+10 <= c.e && int(le.Uint32(b[c.p+6:])) == c.p+10 {
		return 2 // inline name after a dependency id
	}
	if c.p+8 <= c.e && int(le.Uint32(b[c.p+4:])) == c.p+8 {
		return 0 // inline name, no dependency id
	}
	if c.inTemplate {
		return 2
	}
	return 0
}

func (c *compiler) top() ctx { return c.stack[c.n-1] }

// text emits constant text in the current position (attribute or content).
func (c *compiler) text(s string) {
	if c.inAttr {
		if c.attr != aNone {
			c.out = append(c.out, op{kind: opAttrText, role: c.attr, s: s})
			if c.attr == aDataName && c.lastOpen >= 0 && s != "" {
				// Constant Data @Name: the key is known now.
				o := &c.out[c.lastOpen]
				if !o.named && o.s == "" {
					o.s, o.named = s, true
					c.out = c.out[:len(c.out)-1]
				} else {
					o.named = false
				}
			}
		}
		return
	}
	if c.top().collects() {
		c.out = append(c.out, op{kind: opText, s: s})
	}
}

func (c *compiler) run() error {
	d := c.d
	c.lastOpen = -1
	for c.p < c.e {
		tok, _ := c.u8()
		switch tok & 0x1f {
		case 0x00: // EOF
			return nil
		case 0x0f: // fragment header: major, minor, flags
			if c.p+3 > c.e {
				return errBounds
			}
			c.p += 3
		case 0x01: // open start element
			// [dependency id (2)], data size (4), name. The dependency id
			// is written inside template definitions only; tell by where
			// the name reference points.
			c.p += c.depID()
			if c.p+4 > c.e {
				return errBounds
			}
			c.p += 4
			name, ok := c.name()
			if !ok {
				return errBounds
			}
			if tok&0x40 != 0 {
				if _, ok := c.u32(); !ok { // attribute list size
					return errBounds
				}
			}
			if c.n >= maxDepth {
				return errDepth
			}
			k := c.top().child(name)
			key := ""
			if k == cLeaf {
				key = name
			}
			c.lastOpen = len(c.out)
			c.out = append(c.out, op{kind: opOpen, ctx: k, s: key})
			c.opens[c.n] = c.lastOpen
			c.stack[c.n] = k
			c.n++
			c.attrs, c.inAttr = true, false
		case 0x02: // close start element
			c.attrs, c.inAttr = false, false
		case 0x03, 0x04: // close empty element, end element
			c.attrs, c.inAttr = false, false
			if c.n <= 1 {
				return errToken
			}
			c.n--
			c.out = append(c.out, op{kind: opEnd})
		case 0x05: // value text
			if _, ok := c.u8(); !ok { // value type (string)
				return errBounds
			}
			n, ok := c.u16()
			if !ok {
				return errBounds
			}
			s, ok := c.utf16(int(n))
			if !ok {
				return errBounds
			}
			c.text(s)
		case 0x06: // attribute
			if !c.attrs {
				return errToken
			}
			name, ok := c.name()
			if !ok {
				return errBounds
			}
			c.inAttr = true
			c.attr = attrRole(c.top(), name)
		case 0x07: // CDATA
			n, ok := c.u16()
			if !ok {
				return errBounds
			}
			s, ok := c.utf16(int(n))
			if !ok {
				return errBounds
			}
			c.text(s)
		case 0x08: // character reference
			v, ok := c.u16()
			if !ok {
				return errBounds
			}
			var buf [4]byte
			c.text(string(utf8.AppendRune(buf[:0], rune(v))))
		case 0x09: // entity reference
			name, ok := c.name()
			if !ok {
				return errBounds
			}
			c.text(entity(name))
		case 0x0a: // PI target
			if _, ok := c.name(); !ok {
				return errBounds
			}
		case 0x0b: // PI data
			n, ok := c.u16()
			if !ok || c.p+2*int(n) > c.e {
				return errBounds
			}
			c.p += 2 * int(n)
		case 0x0c: // template instance
			if c.inTemplate {
				return errToken
			}
			if err := c.instance(); err != nil {
				return err
			}
		case 0x0d, 0x0e: // normal, optional substitution
			if !c.inTemplate {
				return errToken
			}
			idx, ok := c.u16()
			if !ok {
				return errBounds
			}
			if _, ok := c.u8(); !ok { // declared value type
				return errBounds
			}
			if idx >= maxSubst {
				return errTooManySubs
			}
			role := aNone
			if c.inAttr {
				role = c.attr
				if role == aNone {
					continue
				}
				if role == aDataName && c.lastOpen >= 0 {
					c.out[c.lastOpen].named = false
					c.out[c.lastOpen].s = ""
				}
			} else if c.top() == cIgnore {
				continue
			}
			c.out = append(c.out, op{kind: opSubst, role: role, idx: idx})
		default:
			return errToken
		}
		_ = d
	}
	if c.inTemplate {
		return errBounds
	}
	return nil
}

// instance compiles a template instance: 0x01, template id (4), definition
// offset (4), the definition itself when defined here, then the values.
func (c *compiler) instance() error {
	if c.p+9 > c.e {
		return errBounds
	}
	c.p += 5 // 0x01 and template id
	off, _ := c.u32()
	t, err := c.d.template(off, c.top())
	if err != nil {
		return err
	}
	if int(off) == c.p {
		// Defined inline: next (4), GUID (16), data size (4), data.
		if c.p+24 > c.e {
			return errBounds
		}
		size := int(binary.LittleEndian.Uint32(c.d.b[c.p+20:]))
		if size > c.e-c.p-24 {
			return errBounds
		}
		c.p += 24 + size
	}
	// Values: count, descriptors, data.
	pos := c.p
	n, ok := c.u32()
	if !ok {
		return errBounds
	}
	if n > maxSubst {
		return errTooManySubs
	}
	if c.p+4*int(n) > c.e {
		return errBounds
	}
	total := 0
	for i := 0; i < int(n); i++ {
		total += int(binary.LittleEndian.Uint16(c.d.b[c.p+4*i:]))
	}
	c.p += 4 * int(n)
	if total > c.e-c.p {
		return errBounds
	}
	c.p += total
	c.out = append(c.out, op{kind: opInstance, t: t, pos: int32(pos)})
	return nil
}

// template returns the compiled template defined at chunk offset off for
// instances in context k, compiling it the first time.
func (d *decoder) template(off uint32, k ctx) (*tmpl, error) {
	key := uint64(off)<<8 | uint64(k)
	if t, ok := d.tmpls[key]; ok {
		if t == nil {
			return nil, errNotTemplate
		}
		return t, nil
	}
	b := d.b
	if int64(off) < chunkHeaderSize || int64(off)+24 > int64(len(b)) {
		return nil, errNotTemplate
	}
	size := int(binary.LittleEndian.Uint32(b[off+20:]))
	start := int(off) + 24
	if size > len(b)-start {
		return nil, errNotTemplate
	}
	d.tmpls[key] = nil // a template referring to itself fails
	cp := compiler{d: d, p: start, e: start + size, inTemplate: true}
	cp.stack[0] = k
	cp.n = 1
	if err := cp.runTemplate(); err != nil {
		return nil, err
	}
	t := &tmpl{ops: cp.out}
	d.tmpls[key] = t
	return t, nil
}

// runTemplate compiles a template body, which ends at its EOF token.
func (c *compiler) runTemplate() error {
	end := c.e
	err := c.run()
	if err == errBounds && c.p >= end {
		return errBounds
	}
	return err
}

func entity(name string) string {
	switch name {
	case "amp":
		return "&"
	case "lt":
		return "<"
	case "gt":
		return ">"
	case "quot":
		return "\""
	case "apos":
		return "'"
	}
	return "&" + name + ";"
}
