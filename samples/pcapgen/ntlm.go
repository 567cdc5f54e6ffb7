package pcapgen

import (
	"encoding/binary"
	"unicode/utf16"
)

// NTLMSSP messages (MS-NLMP) and their SPNEGO wrapping (RFC 4178).

const ntlmFlags = 0xe2088297 // unicode, NTLM, sign, seal, always sign, extended session security, target info, version, 128, key exchange, 56

func utf16le(s string) []byte {
	var b []byte
	for _, r := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, r)
	}
	return b
}

// ntlmFields lays out payload fields after a fixed header of size fixed:
// each field's (len, maxlen, offset) goes at the given header offsets.
func ntlmFields(hdr []byte, offs []int, payload [][]byte) []byte {
	off := len(hdr)
	for i, p := range payload {
		binary.LittleEndian.PutUint16(hdr[offs[i]:], uint16(len(p)))
		binary.LittleEndian.PutUint16(hdr[offs[i]+2:], uint16(len(p)))
		binary.LittleEndian.PutUint32(hdr[offs[i]+4:], uint32(off))
		off += len(p)
	}
	for _, p := range payload {
		hdr = append(hdr, p...)
	}
	return hdr
}

func ntlmHeader(size int, typ uint32) []byte {
	h := make([]byte, size)
	copy(h, "NTLMSSP\x00")
	binary.LittleEndian.PutUint32(h[8:], typ)
	return h
}

// NTLMNegotiate encodes a NEGOTIATE_MESSAGE.
func NTLMNegotiate() []byte {
	h := ntlmHeader(40, 1)
	binary.LittleEndian.PutUint32(h[12:], ntlmFlags)
	copy(h[32:], []byte{10, 0, 0x61, 0x4a, 0, 0, 0, 15}) // Windows 10 build 19041
	return h
}

func avPair(id uint16, v []byte) []byte {
	b := binary.LittleEndian.AppendUint16(nil, id)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(v)))
	return append(b, v...)
}

// NTLMChallenge encodes a CHALLENGE_MESSAGE from server (NetBIOS name) in
// domain, with the target info AV pairs Windows sends.
func NTLMChallenge(domain, server, dnsDomain string) []byte {
	h := ntlmHeader(56, 2)
	binary.LittleEndian.PutUint32(h[20:], ntlmFlags)
	copy(h[24:], filler(8))
	copy(h[48:], []byte{10, 0, 0x7c, 0x4f, 0, 0, 0, 15})
	var ti []byte
	ti = append(ti, avPair(2, utf16le(domain))...)
	ti = append(ti, avPair(1, utf16le(server))...)
	ti = append(ti, avPair(4, utf16le(dnsDomain))...)
	ti = append(ti, avPair(3, utf16le(server+"."+dnsDomain))...)
	ti = append(ti, avPair(7, filler(8))...)
	ti = append(ti, avPair(0, nil)...)
	return ntlmFields(h, []int{12, 40}, [][]byte{utf16le(domain), ti})
}

// NTLMAuthenticate encodes an AUTHENTICATE_MESSAGE. v1 sends 24-byte LM
// and NT responses (NTLMv1, no MIC); otherwise an NTLMv2 response whose
// MsvAvFlags announce the MIC the message carries.
func NTLMAuthenticate(domain, user, workstation string, v1 bool) []byte {
	h := ntlmHeader(88, 3)
	var lm, nt []byte
	if v1 {
		lm, nt = filler(24), fillerBlock[100:124]
		h = h[:72] // no MIC field
	} else {
		lm = make([]byte, 24)
		blob := []byte{1, 1, 0, 0, 0, 0, 0, 0}
		blob = append(blob, filler(16)...) // timestamp, client challenge
		blob = append(blob, 0, 0, 0, 0)
		blob = append(blob, avPair(2, utf16le(domain))...)
		blob = append(blob, avPair(1, utf16le("DC01"))...)
		blob = append(blob, avPair(6, []byte{2, 0, 0, 0})...) // MsvAvFlags: MIC present
		blob = append(blob, avPair(9, utf16le("cifs/DC01"))...)
		blob = append(blob, avPair(0, nil)...)
		blob = append(blob, 0, 0, 0, 0)
		nt = append(append([]byte(nil), fillerBlock[300:316]...), blob...)
		copy(h[72:], fillerBlock[500:516]) // MIC
	}
	binary.LittleEndian.PutUint32(h[60:], ntlmFlags)
	copy(h[64:], []byte{10, 0, 0x61, 0x4a, 0, 0, 0, 15})
	return ntlmFields(h, []int{12, 20, 28, 36, 44, 52},
		[][]byte{lm, nt, utf16le(domain), utf16le(user), utf16le(workstation), filler(16)})
}

var (
	oidSPNEGO  = []byte{0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02}
	oidNTLMSSP = []byte{0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a}
)

// SPNEGOInit wraps an NTLM NEGOTIATE in a GSS-API NegTokenInit.
func SPNEGOInit(tok []byte) []byte {
	return tlv(0x60, oidSPNEGO, ctx(0, seq(ctx(0, seq(oidNTLMSSP)), ctx(2, derOctets(tok)))))
}

// SPNEGOResp wraps a token in a NegTokenResp; state < 0 leaves negState
// out (the client's AUTHENTICATE).
func SPNEGOResp(state int, tok []byte) []byte {
	var parts [][]byte
	if state >= 0 {
		parts = append(parts, ctx(0, derEnum(state)))
		if state == 1 {
			parts = append(parts, ctx(1, oidNTLMSSP))
		}
	}
	if tok != nil {
		parts = append(parts, ctx(2, derOctets(tok)))
	}
	return ctx(1, seq(parts...))
}
