package dns

import (
	"encoding/binary"
	"errors"
	"strconv"
)

// HeaderLen is the DNS message header.
const HeaderLen = 12

// Query types with a meaning here.
const (
	TypeSOA  = 6
	TypeIXFR = 251
	TypeAXFR = 252
)

const (
	maxPointers = 16  // compression pointers followed per name
	maxName     = 255 // wire length of a name
	maxRecords  = 4096
)

// ErrMalformed reports a message that does not follow RFC 1035.
var ErrMalformed = errors.New("dns: malformed message")

// Message is what the dissector reads of a DNS message.
type Message struct {
	ID        uint16
	Response  bool
	Opcode    int
	Truncated bool
	RCode     int
	QDCount   int
	ANCount   int
	// First question (empty when QDCount is 0).
	QName  string
	QType  uint16
	QClass uint16
	// SOAs is the number of SOA records in the answer section (an AXFR
	// opens and closes with one).
	SOAs int
}

// Parse decodes the header, the first question and, for responses, the
// types of the answer records.
func Parse(b []byte) (Message, error) { return parse(b, true) }

// parse is Parse; without name, the first question's name is validated
// but not copied out (QName stays empty: see questionName).
func parse(b []byte, name bool) (Message, error) {
	var m Message
	if len(b) < HeaderLen {
		return m, ErrMalformed
	}
	be := binary.BigEndian
	m.ID = be.Uint16(b)
	flags := be.Uint16(b[2:])
	m.Response = flags&0x8000 != 0
	m.Opcode = int(flags>>11) & 0xf
	m.Truncated = flags&0x0200 != 0
	m.RCode = int(flags & 0xf)
	m.QDCount = int(be.Uint16(b[4:]))
	m.ANCount = int(be.Uint16(b[6:]))
	off := HeaderLen
	for q := 0; q < m.QDCount; q++ {
		text, next, err := readName(b, off, q == 0, q == 0 && name)
		if err != nil || next+4 > len(b) {
			return m, ErrMalformed
		}
		if q == 0 {
			m.QName = text
			m.QType, m.QClass = be.Uint16(b[next:]), be.Uint16(b[next+2:])
		}
		off = next + 4
		if q >= 16 {
			return m, nil // more questions than any server answers: stop
		}
	}
	if !m.Response {
		return m, nil
	}
	for a := 0; a < m.ANCount && a < maxRecords; a++ {
		next, err := skipName(b, off)
		if err != nil || next+10 > len(b) {
			return m, ErrMalformed
		}
		if be.Uint16(b[next:]) == TypeSOA {
			m.SOAs++
		}
		rdlen := int(be.Uint16(b[next+8:]))
		off = next + 10 + rdlen
		if off > len(b) {
			return m, ErrMalformed
		}
	}
	return m, nil
}

// questionName returns the first question's name of a message parse
// accepted.
func questionName(b []byte) string {
	name, _, _ := readName(b, HeaderLen, true, true)
	return name
}

// readName decodes the name at off (following compression pointers when
// text is wanted) and returns the offset after it in the original
// position. The text, returned when keep is set, is lower-case, without
// the trailing dot ("." for the root).
func readName(b []byte, off int, text, keep bool) (string, int, error) {
	var buf [maxName + 1]byte // a name's text is shorter than its wire form
	out := buf[:0]
	end := -1 // offset after the name at its original position
	jumps, wire := 0, 0
	for {
		if off >= len(b) {
			return "", 0, ErrMalformed
		}
		l := int(b[off])
		switch l & 0xc0 {
		case 0x00:
			if l == 0 {
				if end < 0 {
					end = off + 1
				}
				switch {
				case !keep:
					return "", end, nil
				case len(out) == 0:
					return ".", end, nil
				}
				return string(out), end, nil
			}
			wire += l + 1
			if wire > maxName || off+1+l > len(b) {
				return "", 0, ErrMalformed
			}
			if text {
				if len(out) > 0 {
					out = append(out, '.')
				}
				for _, c := range b[off+1 : off+1+l] {
					switch {
					case c >= 'A' && c <= 'Z':
						c += 'a' - 'A'
					case c < 0x21 || c > 0x7e:
						c = '?'
					}
					out = append(out, c)
				}
			}
			off += 1 + l
		case 0xc0:
			if off+2 > len(b) {
				return "", 0, ErrMalformed
			}
			ptr := int(binary.BigEndian.Uint16(b[off:]) & 0x3fff)
			if end < 0 {
				end = off + 2
			}
			if !text {
				return "", end, nil
			}
			// Pointers must go strictly backwards: no loops.
			jumps++
			if ptr >= off || jumps > maxPointers {
				return "", 0, ErrMalformed
			}
			off = ptr
		default: // 0x40, 0x80: extended label types (obsolete)
			return "", 0, ErrMalformed
		}
	}
}

// skipName returns the offset after the name at off without decoding it.
func skipName(b []byte, off int) (int, error) {
	_, next, err := readName(b, off, false, false)
	return next, err
}

var typeNames = map[uint16]string{
	1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 10: "NULL", 11: "WKS", 12: "PTR", 13: "HINFO", 15: "MX",
	16: "TXT", 17: "RP", 18: "AFSDB", 24: "SIG", 25: "KEY", 28: "AAAA", 29: "LOC", 33: "SRV", 35: "NAPTR",
	37: "CERT", 39: "DNAME", 41: "OPT", 43: "DS", 44: "SSHFP", 46: "RRSIG", 47: "NSEC", 48: "DNSKEY",
	50: "NSEC3", 51: "NSEC3PARAM", 52: "TLSA", 64: "SVCB", 65: "HTTPS", 99: "SPF", 249: "TKEY",
	250: "TSIG", 251: "IXFR", 252: "AXFR", 253: "MAILB", 254: "MAILA", 255: "ANY", 256: "URI", 257: "CAA",
}

// TypeName names a query type: "A", "SRV", "AXFR", … or "TYPEnnn".
func TypeName(t uint16) string {
	if n, ok := typeNames[t]; ok {
		return n
	}
	return "TYPE" + strconv.Itoa(int(t))
}

var rcodeNames = [...]string{"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"}

// RCodeName names a response code: NOERROR, NXDOMAIN, REFUSED, … or
// "RCODEn".
func RCodeName(r int) string {
	if r >= 0 && r < len(rcodeNames) {
		return rcodeNames[r]
	}
	return "RCODE" + strconv.Itoa(r)
}
