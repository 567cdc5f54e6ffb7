package dcerpc

import (
	"encoding/binary"
	"errors"
	"strconv"
)

// PDU types (C706 12.6.4; auth3 from MS-RPCE 2.2.2.1).
const (
	PTypeRequest      = 0
	PTypeResponse     = 2
	PTypeFault        = 3
	PTypeBind         = 11
	PTypeBindAck      = 12
	PTypeBindNak      = 13
	PTypeAlterContext = 14
	PTypeAlterResp    = 15
	PTypeAuth3        = 16
	PTypeShutdown     = 17
	PTypeCoCancel     = 18
	PTypeOrphaned     = 19
)

// pfc_flags.
const (
	FlagFirstFrag  = 0x01
	FlagLastFrag   = 0x02
	FlagObjectUUID = 0x80
)

// HeaderLen is the common header of every connection-oriented PDU.
const HeaderLen = 16

// ErrMalformed reports a PDU that does not follow C706.
var ErrMalformed = errors.New("dcerpc: malformed PDU")

// Header is the common header of a connection-oriented PDU.
type Header struct {
	Type      uint8
	Flags     uint8
	BigEndian bool // packed_drep integer representation
	FragLen   int
	AuthLen   int
	CallID    uint32
}

// order returns the byte order of the PDU.
func (h *Header) order() binary.ByteOrder {
	if h.BigEndian {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// ParseHeader decodes the common header of b (which must hold at least
// HeaderLen bytes): version 5.0 or 5.1, a known PDU type and a frag_length
// that covers the header and the auth verifier.
func ParseHeader(b []byte) (Header, error) {
	var h Header
	if len(b) < HeaderLen || b[0] != 5 || b[1] > 1 || b[2] > PTypeOrphaned {
		return h, ErrMalformed
	}
	h.Type, h.Flags = b[2], b[3]
	h.BigEndian = b[4]&0xf0 == 0
	o := h.order()
	h.FragLen = int(o.Uint16(b[8:]))
	h.AuthLen = int(o.Uint16(b[10:]))
	h.CallID = o.Uint32(b[12:])
	if h.FragLen < HeaderLen {
		return h, ErrMalformed
	}
	if h.AuthLen > 0 && h.AuthLen+8 > h.FragLen-HeaderLen {
		return h, ErrMalformed
	}
	return h, nil
}

// Frame is a network.FrameFunc for a stream of PDUs: the frag_length of
// the PDU at the start of b.
func Frame(b []byte) (int, error) {
	if len(b) < HeaderLen {
		if len(b) >= 1 && b[0] != 5 || len(b) >= 2 && b[1] > 1 {
			return 0, ErrMalformed
		}
		return 0, nil
	}
	h, err := ParseHeader(b)
	if err != nil {
		return 0, err
	}
	return h.FragLen, nil
}

// Sniff reports whether b (the first payload of a TCP segment) starts
// with a bind or alter_context PDU carrying at least one presentation
// context: how DCE/RPC on dynamic ports is recognized by content.
func Sniff(b []byte) bool {
	if len(b) < HeaderLen+12+44 || b[0] != 5 || b[1] != 0 || (b[2] != PTypeBind && b[2] != PTypeAlterContext) {
		return false
	}
	h, err := ParseHeader(b)
	if err != nil || h.FragLen < HeaderLen+12+44 {
		return false
	}
	n := int(b[HeaderLen+8])
	return n >= 1 && b[HeaderLen+14] >= 1 && b[HeaderLen+14] <= 16 // first context's n_transfer_syn
}

// SyntaxID is an interface (abstract syntax) or transfer syntax: a UUID
// and a version.
type SyntaxID struct {
	UUID         [16]byte // in the wire's field order, normalized to little-endian fields
	Major, Minor uint16
}

// parseSyntax reads a p_syntax_id_t (20 bytes) in byte order o.
func parseSyntax(b []byte, o binary.ByteOrder) SyntaxID {
	var s SyntaxID
	binary.LittleEndian.PutUint32(s.UUID[0:], o.Uint32(b[0:]))
	binary.LittleEndian.PutUint16(s.UUID[4:], o.Uint16(b[4:]))
	binary.LittleEndian.PutUint16(s.UUID[6:], o.Uint16(b[6:]))
	copy(s.UUID[8:], b[8:16])
	// C706 version: major and minor as two 16-bit fields (MS-RPCE 2.2.2.1).
	s.Major, s.Minor = o.Uint16(b[16:]), o.Uint16(b[18:])
	return s
}

// String renders the UUID as lower-case 8-4-4-4-12 text.
func (s SyntaxID) String() string {
	const hexd = "0123456789abcdef"
	u := s.UUID
	var out [36]byte
	// data1, data2, data3 are little-endian integers; data4 is bytes.
	order := [16]int{3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15}
	j := 0
	for i, k := range order {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out[j] = '-'
			j++
		}
		out[j], out[j+1] = hexd[u[k]>>4], hexd[u[k]&0xf]
		j += 2
	}
	return string(out[:])
}

// Version renders "major.minor".
func (s SyntaxID) Version() string {
	return strconv.Itoa(int(s.Major)) + "." + strconv.Itoa(int(s.Minor))
}

// Context is one presentation context of a bind or alter_context.
type Context struct {
	ID       uint16
	Abstract SyntaxID
}

// maxBindContexts caps the contexts read from one bind.
const maxBindContexts = 32

// ParseBind reads the presentation contexts of a bind or alter_context PDU.
func ParseBind(h *Header, b []byte) ([]Context, error) {
	o := h.order()
	body := b[:h.FragLen]
	if len(body) < HeaderLen+12 {
		return nil, ErrMalformed
	}
	n := int(body[HeaderLen+8])
	off := HeaderLen + 12
	end := len(body)
	if h.AuthLen > 0 {
		end -= h.AuthLen + 8
	}
	var out []Context
	for i := 0; i < n && i < maxBindContexts; i++ {
		if off+4+20 > end {
			return out, ErrMalformed
		}
		id := o.Uint16(body[off:])
		nts := int(body[off+2])
		c := Context{ID: id, Abstract: parseSyntax(body[off+4:], o)}
		off += 4 + 20 + 20*nts
		if off > end {
			return out, ErrMalformed
		}
		out = append(out, c)
	}
	return out, nil
}

// ParseBindAck returns the result of each context of a bind_ack or
// alter_context_resp, in the order of the bind's contexts (0 = acceptance).
func ParseBindAck(h *Header, b []byte) ([]uint16, error) {
	o := h.order()
	body := b[:h.FragLen]
	if len(body) < HeaderLen+10 {
		return nil, ErrMalformed
	}
	secLen := int(o.Uint16(body[HeaderLen+8:]))
	off := HeaderLen + 10 + secLen
	off = (off + 3) &^ 3 // align to 4
	if off+4 > len(body) {
		return nil, ErrMalformed
	}
	n := int(body[off])
	off += 4
	var out []uint16
	for i := 0; i < n && i < maxBindContexts; i++ {
		if off+24 > len(body) {
			return out, ErrMalformed
		}
		out = append(out, o.Uint16(body[off:]))
		off += 24
	}
	return out, nil
}

// Request is the fixed part of a request PDU.
type Request struct {
	ContextID uint16
	Opnum     uint16
	Stub      int // stub bytes in this fragment
}

// ParseRequest reads a request PDU's context id and opnum.
func ParseRequest(h *Header, b []byte) (Request, error) {
	o := h.order()
	if h.FragLen < HeaderLen+8 || len(b) < HeaderLen+8 {
		return Request{}, ErrMalformed
	}
	r := Request{ContextID: o.Uint16(b[HeaderLen+4:]), Opnum: o.Uint16(b[HeaderLen+6:])}
	hdr := HeaderLen + 8
	if h.Flags&FlagObjectUUID != 0 {
		hdr += 16
	}
	r.Stub = h.FragLen - hdr
	if h.AuthLen > 0 {
		r.Stub -= h.AuthLen + 8
	}
	if r.Stub < 0 {
		return r, ErrMalformed
	}
	return r, nil
}

// Auth is the sec_trailer of a PDU with an authentication verifier.
type Auth struct {
	Type, Level uint8
	Value       []byte
}

// ParseAuth returns the verifier at the end of the PDU, if any.
func ParseAuth(h *Header, b []byte) (Auth, bool) {
	if h.AuthLen == 0 || h.FragLen > len(b) {
		return Auth{}, false
	}
	off := h.FragLen - h.AuthLen - 8
	if off < HeaderLen {
		return Auth{}, false
	}
	return Auth{Type: b[off], Level: b[off+1], Value: b[off+8 : h.FragLen]}, true
}

// AuthLevelName names an authentication level (MS-RPCE 2.2.1.1.8).
func AuthLevelName(l uint8) string {
	switch l {
	case 1:
		return "none"
	case 2:
		return "connect"
	case 3:
		return "call"
	case 4:
		return "packet"
	case 5:
		return "integrity"
	case 6:
		return "privacy"
	}
	return "level" + strconv.Itoa(int(l))
}

// ReturnValue reads the last four bytes of a response PDU's stub (the
// operation's return value in the last fragment), unless the stub is
// sealed (auth level privacy) or too short.
func ReturnValue(h *Header, b []byte) (uint32, bool) {
	const respHeader = HeaderLen + 8
	end := h.FragLen
	if end > len(b) {
		return 0, false
	}
	if h.AuthLen > 0 {
		a, ok := ParseAuth(h, b)
		if !ok || a.Level >= 6 {
			return 0, false
		}
		trailer := h.FragLen - h.AuthLen - 8
		end = trailer - int(b[trailer+2]) // auth_pad_length
	}
	if end-4 < respHeader {
		return 0, false
	}
	return h.order().Uint32(b[end-4:]), true
}

// FaultStatus reads the status of a fault PDU.
func FaultStatus(h *Header, b []byte) (uint32, bool) {
	if h.FragLen < HeaderLen+12 || len(b) < HeaderLen+12 {
		return 0, false
	}
	return h.order().Uint32(b[HeaderLen+8:]), true
}
