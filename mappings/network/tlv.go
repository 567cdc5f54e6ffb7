package network

import "errors"

// ErrASN1 reports malformed BER/DER.
var ErrASN1 = errors.New("network: malformed BER")

// ASN.1 classes as they appear in the identifier octet.
const (
	ClassUniversal   = 0x00
	ClassApplication = 0x40
	ClassContext     = 0x80
	ClassPrivate     = 0xc0
)

// TLV is one BER element: a view into the input, never a copy.
type TLV struct {
	Class       byte // one of the Class constants
	Constructed bool
	Tag         int
	Body        []byte
}

// Is reports whether t has the class and tag.
func (t TLV) Is(class byte, tag int) bool { return t.Class == class && t.Tag == tag }

// ParseTLV reads the first element of b and returns it and the rest. It
// accepts definite lengths only (as LDAP and Kerberos require), tags up to
// 2^21 and lengths up to what b holds: it never allocates.
func ParseTLV(b []byte) (t TLV, rest []byte, err error) {
	n, hdr, hlen, err := header(b)
	if err != nil {
		return TLV{}, nil, err
	}
	if n == 0 || n > len(b) {
		return TLV{}, nil, ErrASN1
	}
	t = TLV{Class: b[0] & 0xc0, Constructed: b[0]&0x20 != 0, Tag: int(b[0] & 0x1f), Body: b[hlen:n]}
	if t.Tag == 0x1f {
		t.Tag = 0
		for i := 1; i < hdr; i++ {
			if b[i]&0x80 == 0 {
				t.Tag = t.Tag<<7 | int(b[i])
				break
			}
			t.Tag = t.Tag<<7 | int(b[i]&0x7f)
		}
	}
	return t, b[n:], nil
}

// HeaderLen reads the identifier and length of the element at the start of
// b. It returns the total element length n (header + body; it may exceed
// len(b)) and the length of the identifier octets, or n == 0 when b is too
// short to tell. It is a FrameFunc-friendly building block for BER streams.
func HeaderLen(b []byte) (n, idLen int, err error) {
	n, idLen, _, err = header(b)
	return n, idLen, err
}

// header is HeaderLen that also returns the header's length.
func header(b []byte) (n, idLen, hlen int, err error) {
	if len(b) < 2 {
		return 0, 0, 0, nil
	}
	i := 1
	if b[0]&0x1f == 0x1f {
		for ; ; i++ {
			if i >= len(b) {
				return 0, 0, 0, nil
			}
			if i > 3 {
				return 0, 0, 0, ErrASN1
			}
			if b[i]&0x80 == 0 {
				i++
				break
			}
		}
	}
	idLen = i
	if i >= len(b) {
		return 0, 0, 0, nil
	}
	l := int(b[i])
	i++
	if l&0x80 != 0 {
		k := l & 0x7f
		if k == 0 || k > 4 {
			return 0, 0, 0, ErrASN1 // indefinite or absurd length
		}
		if i+k > len(b) {
			return 0, 0, 0, nil
		}
		l = 0
		for j := 0; j < k; j++ {
			l = l<<8 | int(b[i+j])
		}
		i += k
		if l < 0 || l > 1<<30 {
			return 0, 0, 0, ErrASN1
		}
	}
	return i + l, idLen, i, nil
}

// Int reads a BER INTEGER or ENUMERATED body as int64 (up to 8 bytes).
func Int(body []byte) (int64, error) {
	if len(body) == 0 || len(body) > 8 {
		return 0, ErrASN1
	}
	v := int64(int8(body[0]))
	for _, c := range body[1:] {
		v = v<<8 | int64(c)
	}
	return v, nil
}

// Elements calls fn for each element of a constructed body, stopping at
// the first error or when fn returns false. At most max elements are
// visited; more is an error.
func Elements(body []byte, max int, fn func(TLV) bool) error {
	for i := 0; len(body) > 0; i++ {
		if i >= max {
			return ErrASN1
		}
		t, rest, err := ParseTLV(body)
		if err != nil {
			return err
		}
		if !fn(t) {
			return nil
		}
		body = rest
	}
	return nil
}
