package pcapgen

import "encoding/binary"

// DER encoding (X.690) of the few types Kerberos and LDAP need.

// tlv encodes a tag byte (class, constructed bit and number < 31) with a
// definite length.
func tlv(tag byte, parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	b := make([]byte, 0, n+6)
	b = append(b, tag)
	b = appendLen(b, n)
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func appendLen(b []byte, n int) []byte {
	switch {
	case n < 0x80:
		return append(b, byte(n))
	case n < 0x100:
		return append(b, 0x81, byte(n))
	case n < 0x10000:
		return append(b, 0x82, byte(n>>8), byte(n))
	default:
		return append(b, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
}

// Tag classes.
const (
	classApplication = 0x40
	classContext     = 0x80
	constructed      = 0x20
)

func seq(parts ...[]byte) []byte { return tlv(0x30, parts...) }

// ctx is an explicit context tag [n] around one value.
func ctx(n byte, v []byte) []byte { return tlv(classContext|constructed|n, v) }

// app is an [APPLICATION n] constructed wrapper.
func app(n byte, parts ...[]byte) []byte { return tlv(classApplication|constructed|n, parts...) }

func derInt(v int64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(v))
	i := 0
	for i < 7 && ((b[i] == 0 && b[i+1]&0x80 == 0) || (b[i] == 0xff && b[i+1]&0x80 != 0)) {
		i++
	}
	return tlv(0x02, b[i:])
}

func derGeneralString(s string) []byte { return tlv(0x1b, []byte(s)) }
func derOctets(b []byte) []byte        { return tlv(0x04, b) }
func derBool(v bool) []byte {
	if v {
		return tlv(0x01, []byte{0xff})
	}
	return tlv(0x01, []byte{0})
}
func derEnum(v int) []byte { return tlv(0x0a, []byte{byte(v)}) }

// derBits32 encodes a 32-bit BIT STRING (Kerberos flags).
func derBits32(v uint32) []byte {
	return tlv(0x03, []byte{0, byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// derTime encodes a KerberosTime (GeneralizedTime, Z).
func derTime(s string) []byte { return tlv(0x18, []byte(s)) }
