package ntlm

import (
	"encoding/binary"
	"unicode/utf16"
)

// BuildAuthenticate encodes an AUTHENTICATE message (MS-NLMP 2.2.1.3), for
// tests and crafted captures: flags, then the payload fields in order —
// the LM and NT responses, the domain, user and workstation names (UTF-16LE
// when flags has NEGOTIATE_UNICODE, 0x1, OEM bytes otherwise) and an empty
// session key. With mic the fixed part has room for the version and a
// 16-byte MIC (88 bytes, left zero for the caller to fill) instead of 64.
func BuildAuthenticate(flags uint32, lm, nt []byte, domain, user, workstation string, mic bool) []byte {
	str := func(s string) []byte { return []byte(s) }
	if flags&flagUnicode != 0 {
		str = func(s string) []byte {
			var b []byte
			for _, r := range utf16.Encode([]rune(s)) {
				b = binary.LittleEndian.AppendUint16(b, r)
			}
			return b
		}
	}
	size := 64
	if mic {
		size = 88
	}
	payload := [][]byte{lm, nt, str(domain), str(user), str(workstation), nil}
	msg := make([]byte, size)
	copy(msg, Signature)
	binary.LittleEndian.PutUint32(msg[8:], TypeAuthenticate)
	off := size
	for i, p := range payload {
		binary.LittleEndian.PutUint16(msg[12+8*i:], uint16(len(p)))
		binary.LittleEndian.PutUint16(msg[14+8*i:], uint16(len(p)))
		binary.LittleEndian.PutUint32(msg[16+8*i:], uint32(off))
		off += len(p)
	}
	binary.LittleEndian.PutUint32(msg[60:], flags)
	for _, p := range payload {
		msg = append(msg, p...)
	}
	return msg
}
