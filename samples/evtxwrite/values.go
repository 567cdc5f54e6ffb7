package evtxwrite

import (
	"strconv"
	"strings"
)

// Binary XML value types (libevtx names).
const (
	typeNull     = 0x00
	typeString   = 0x01
	typeUInt8    = 0x04
	typeUInt16   = 0x06
	typeUInt32   = 0x08
	typeUInt64   = 0x0a
	typeGUID     = 0x0f
	typeFileTime = 0x11
	typeSID      = 0x13
	typeHexInt32 = 0x14
	typeHexInt64 = 0x15
)

// valueType returns the Windows type field value v of field name is written as: the
// narrowest type that renders back to exactly v.
func valueType(name, v string) byte {
	switch {
	case len(v) > 2 && v[0] == '0' && v[1] == 'x':
		n, ok := parseHex(v)
		if !ok {
			return typeString
		}
		if n > 0xffffffff || strings.HasSuffix(name, "LogonId") {
			return typeHexInt64
		}
		return typeHexInt32
	case len(v) > 4 && v[0] == 'S' && v[1] == '-':
		if _, ok := encodeSID(nil, v); ok {
			return typeSID
		}
	case len(v) == 38 && v[0] == '{':
		if _, ok := encodeGUID(nil, v); ok {
			return typeGUID
		}
	}
	return typeString
}

// parseHex parses canonical lower-case hex as Windows renders HexInt32/HexInt64: "0x" and
// at least one digit, no leading zeros unless the value is 0, at most 64 bits.
func parseHex(v string) (uint64, bool) {
	d := v[2:]
	if len(d) == 0 || len(d) > 16 || (len(d) > 1 && d[0] == '0') {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(d); i++ {
		c := d[i]
		switch {
		case c >= '0' && c <= '9':
			n = n<<4 | uint64(c-'0')
		case c >= 'a' && c <= 'f':
			n = n<<4 | uint64(c-'a'+10)
		default:
			return 0, false
		}
	}
	return n, true
}

// parseDec parses a canonical unsigned decimal (no sign, no leading zeros) below 2^32.
func parseDec(s string) (uint32, bool) {
	if s == "" || len(s) > 10 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 32)
	return uint32(n), err == nil
}

// encodeSID appends the binary form of a canonical SID string (S-1-<authority>-<sub>…,
// authority below 2^32, 1 to 15 sub-authorities) to b. ok is false for anything else.
func encodeSID(b []byte, s string) ([]byte, bool) {
	parts := strings.Split(s, "-")
	if len(parts) < 4 || len(parts) > 18 || parts[0] != "S" || parts[1] != "1" {
		return b, false
	}
	auth, ok := parseDec(parts[2])
	if !ok {
		return b, false
	}
	subs := parts[3:]
	b = append(b, 1, byte(len(subs)), 0, 0, byte(auth>>24), byte(auth>>16), byte(auth>>8), byte(auth))
	for _, p := range subs {
		n, ok := parseDec(p)
		if !ok {
			return b, false
		}
		b = append(b, byte(n), byte(n>>8), byte(n>>16), byte(n>>24))
	}
	return b, true
}

// encodeGUID appends the binary form of an upper-case braced GUID
// ({XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}, as Windows renders one) to b.
func encodeGUID(b []byte, s string) ([]byte, bool) {
	if len(s) != 38 || s[0] != '{' || s[37] != '}' {
		return b, false
	}
	var raw [16]byte
	j := 0
	for i := 1; i < 37; i++ {
		switch i {
		case 9, 14, 19, 24:
			if s[i] != '-' {
				return b, false
			}
			continue
		}
		hi, ok1 := upperHex(s[i])
		lo, ok2 := upperHex(s[i+1])
		if !ok1 || !ok2 {
			return b, false
		}
		raw[j] = hi<<4 | lo
		j++
		i++
	}
	// Data1, Data2 and Data3 are little-endian; Data4 is a byte string.
	return append(b, raw[3], raw[2], raw[1], raw[0], raw[5], raw[4], raw[7], raw[6],
		raw[8], raw[9], raw[10], raw[11], raw[12], raw[13], raw[14], raw[15]), true
}

func upperHex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
