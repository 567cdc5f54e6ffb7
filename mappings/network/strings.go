package network

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxString caps strings copied out of packets into events.
const MaxString = 1024

// AppendText appends Text(b) to dst (for building a string of several
// parts in one allocation).
func AppendText(dst, b []byte) []byte {
	if len(b) > MaxString {
		b = b[:MaxString]
	}
	for len(b) > 0 {
		if c := b[0]; c >= 0x20 && c < 0x7f {
			dst = append(dst, c)
			b = b[1:]
			continue
		}
		r, n := utf8.DecodeRune(b)
		if r < 0x20 || r == 0x7f {
			r = utf8.RuneError
		}
		dst = utf8.AppendRune(dst, r)
		b = b[n:]
	}
	return dst
}

// Text returns b as a printable string capped at MaxString bytes: invalid
// UTF-8 and control characters become U+FFFD.
func Text(b []byte) string {
	if len(b) > MaxString {
		b = b[:MaxString]
	}
	clean := true
	for _, c := range b {
		if c < 0x20 || c >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return string(b)
	}
	var sb strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r < 0x20 || r == 0x7f {
			r = utf8.RuneError
		}
		sb.WriteRune(r)
		b = b[n:]
	}
	return sb.String()
}

// UTF16 decodes little-endian UTF-16 (as NTLM and SMB carry names) capped
// at MaxString code units, in one allocation: unpaired surrogates and
// control characters become U+FFFD.
func UTF16(b []byte) string {
	n := min(len(b)/2, MaxString)
	var buf [256]byte
	out := buf[:0]
	unit := func(i int) rune { return rune(uint16(b[2*i]) | uint16(b[2*i+1])<<8) }
	for i := 0; i < n; i++ {
		r := unit(i)
		if utf16.IsSurrogate(r) {
			d := utf8.RuneError
			if i+1 < n {
				d = utf16.DecodeRune(r, unit(i+1))
			}
			if d != utf8.RuneError {
				i++ // a pair
			}
			r = d
		}
		if r < 0x20 || r == 0x7f {
			r = utf8.RuneError
		}
		out = utf8.AppendRune(out, r)
	}
	return string(out)
}
