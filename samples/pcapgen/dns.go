package pcapgen

import (
	"encoding/binary"
	"strings"
)

// DNS record types (RFC 1035, RFC 2782, RFC 1995).
const (
	DNSTypeA    uint16 = 1
	DNSTypeNS   uint16 = 2
	DNSTypeSOA  uint16 = 6
	DNSTypePTR  uint16 = 12
	DNSTypeAAAA uint16 = 28
	DNSTypeSRV  uint16 = 33
	DNSTypeIXFR uint16 = 251
	DNSTypeAXFR uint16 = 252
)

// DNS response codes.
const (
	RcodeNoError  = 0
	RcodeNXDomain = 3
	RcodeRefused  = 5
)

func dnsName(name string) []byte {
	var b []byte
	for _, l := range strings.Split(strings.TrimSuffix(name, "."), ".") {
		if l == "" {
			continue
		}
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	return append(b, 0)
}

func dnsHeader(id uint16, flags uint16, qd, an int) []byte {
	b := binary.BigEndian.AppendUint16(nil, id)
	b = binary.BigEndian.AppendUint16(b, flags)
	b = binary.BigEndian.AppendUint16(b, uint16(qd))
	b = binary.BigEndian.AppendUint16(b, uint16(an))
	return append(b, 0, 0, 0, 0)
}

// DNSQuery encodes a recursive query for name and type.
func DNSQuery(id uint16, name string, qtype uint16) []byte {
	b := dnsHeader(id, 0x0100, 1, 0)
	b = append(b, dnsName(name)...)
	b = binary.BigEndian.AppendUint16(b, qtype)
	return binary.BigEndian.AppendUint16(b, 1)
}

// DNSResponse encodes the answer to a query with rcode and n answer
// records of the query's type (A records carry 10.0.0.x addresses, other
// types a small opaque rdata).
func DNSResponse(id uint16, name string, qtype uint16, rcode int, n int) []byte {
	b := dnsHeader(id, 0x8580|uint16(rcode), 1, n)
	b = append(b, dnsName(name)...)
	b = binary.BigEndian.AppendUint16(b, qtype)
	b = binary.BigEndian.AppendUint16(b, 1)
	for i := 0; i < n; i++ {
		b = append(b, 0xc0, 12) // pointer to the question name
		typ := qtype
		if typ == DNSTypeAXFR || typ == DNSTypeIXFR {
			typ = DNSTypeA
		}
		b = binary.BigEndian.AppendUint16(b, typ)
		b = binary.BigEndian.AppendUint16(b, 1)
		b = binary.BigEndian.AppendUint32(b, 600)
		var rd []byte
		switch typ {
		case DNSTypeA:
			rd = []byte{10, 0, byte(i >> 8), byte(i)}
		case DNSTypeSRV:
			rd = append([]byte{0, 0, 0, 100, 1, 133}, dnsName("dc01.lab.test")...)
		default:
			rd = filler(16)
		}
		b = binary.BigEndian.AppendUint16(b, uint16(len(rd)))
		b = append(b, rd...)
	}
	return b
}

// DNSTCP frames a DNS message for TCP (2-byte length).
func DNSTCP(m []byte) []byte {
	return append(binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(m)), uint16(len(m))), m...)
}
