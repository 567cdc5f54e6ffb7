package dcerpc

import (
	"encoding/binary"
	"encoding/hex"
	"strings"
)

// The Build functions encode little-endian PDUs as C706 chapter 12 lays
// them out. They exist for tests and for the crafted sample captures of
// the network sensor (cases a lab cannot produce); the dissector never
// uses them.

// NDR transfer syntax 8a885d04-1ceb-11c9-9fe8-08002b104860 version 2.0.
var ndrSyntax = MustSyntax("8a885d04-1ceb-11c9-9fe8-08002b104860", 2, 0)

// MustSyntax parses a text UUID and version; it panics on a malformed
// UUID (build-time constants only).
func MustSyntax(uuid string, major, minor uint16) SyntaxID {
	raw, err := hex.DecodeString(strings.ReplaceAll(uuid, "-", ""))
	if err != nil || len(raw) != 16 {
		panic("dcerpc: bad uuid " + uuid)
	}
	var s SyntaxID
	// Text order is big-endian for the first three fields; the wire (and
	// SyntaxID) keeps them little-endian.
	s.UUID = [16]byte{raw[3], raw[2], raw[1], raw[0], raw[5], raw[4], raw[7], raw[6],
		raw[8], raw[9], raw[10], raw[11], raw[12], raw[13], raw[14], raw[15]}
	s.Major, s.Minor = major, minor
	return s
}

func appendSyntax(b []byte, s SyntaxID) []byte {
	b = append(b, s.UUID[:]...)
	b = binary.LittleEndian.AppendUint16(b, s.Major)
	return binary.LittleEndian.AppendUint16(b, s.Minor)
}

// header appends the common header; frag_length and auth_length are
// patched by finish.
func header(ptype, flags uint8, callID uint32) []byte {
	b := []byte{5, 0, ptype, flags, 0x10, 0, 0, 0, 0, 0, 0, 0}
	return binary.LittleEndian.AppendUint32(b, callID)
}

// finish appends an optional verifier (sec_trailer padded to 4 bytes) and
// sets frag_length and auth_length.
func finish(b []byte, auth *Auth) []byte {
	if auth != nil {
		pad := (4 - len(b)%4) % 4
		b = append(b, make([]byte, pad)...)
		b = append(b, auth.Type, auth.Level, byte(pad), 0, 0, 0, 0, 0)
		b = append(b, auth.Value...)
		binary.LittleEndian.PutUint16(b[10:], uint16(len(auth.Value)))
	}
	binary.LittleEndian.PutUint16(b[8:], uint16(len(b)))
	return b
}

// BuildBind encodes a bind (or, with alter, an alter_context) offering
// each abstract syntax with NDR as context ids 0, 1, …
func BuildBind(callID uint32, alter bool, auth *Auth, abstract ...SyntaxID) []byte {
	pt := uint8(PTypeBind)
	if alter {
		pt = PTypeAlterContext
	}
	b := header(pt, FlagFirstFrag|FlagLastFrag, callID)
	b = binary.LittleEndian.AppendUint16(b, 4280) // max_xmit_frag
	b = binary.LittleEndian.AppendUint16(b, 4280) // max_recv_frag
	b = binary.LittleEndian.AppendUint32(b, 0)    // assoc_group_id
	b = append(b, byte(len(abstract)), 0, 0, 0)
	for i, s := range abstract {
		b = binary.LittleEndian.AppendUint16(b, uint16(i))
		b = append(b, 1, 0)
		b = appendSyntax(b, s)
		b = appendSyntax(b, ndrSyntax)
	}
	return finish(b, auth)
}

// BuildBindAck encodes a bind_ack (or alter_context_resp) with the given
// per-context results (0 acceptance, 2 provider rejection), secondary
// address (e.g. "49667" for a TCP port, `\PIPE\lsass` for a pipe) and
// optional verifier (an NTLMSSP CHALLENGE).
func BuildBindAck(callID uint32, alter bool, secAddr string, auth *Auth, results ...uint16) []byte {
	pt := uint8(PTypeBindAck)
	if alter {
		pt = PTypeAlterResp
	}
	b := header(pt, FlagFirstFrag|FlagLastFrag, callID)
	b = binary.LittleEndian.AppendUint16(b, 4280)
	b = binary.LittleEndian.AppendUint16(b, 4280)
	b = binary.LittleEndian.AppendUint32(b, 0x53f0)
	sa := []byte(secAddr)
	if len(sa) > 0 {
		sa = append(sa, 0)
	}
	b = binary.LittleEndian.AppendUint16(b, uint16(len(sa)))
	b = append(b, sa...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	b = append(b, byte(len(results)), 0, 0, 0)
	for _, r := range results {
		b = binary.LittleEndian.AppendUint16(b, r)
		b = binary.LittleEndian.AppendUint16(b, 0)
		if r == 0 {
			b = appendSyntax(b, ndrSyntax)
		} else {
			b = append(b, make([]byte, 20)...)
		}
	}
	return finish(b, auth)
}

// BuildRequest encodes one request fragment (flags FlagFirstFrag and/or
// FlagLastFrag) carrying stub.
func BuildRequest(callID uint32, flags uint8, ctxID, opnum uint16, stub []byte, auth *Auth) []byte {
	b := header(PTypeRequest, flags, callID)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(stub)))
	b = binary.LittleEndian.AppendUint16(b, ctxID)
	b = binary.LittleEndian.AppendUint16(b, opnum)
	b = append(b, stub...)
	return finish(b, auth)
}

// BuildResponse encodes one response fragment carrying stub.
func BuildResponse(callID uint32, flags uint8, ctxID uint16, stub []byte) []byte {
	b := header(PTypeResponse, flags, callID)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(stub)))
	b = binary.LittleEndian.AppendUint16(b, ctxID)
	b = append(b, 0, 0)
	b = append(b, stub...)
	return finish(b, nil)
}

// BuildFault encodes a fault PDU with status.
func BuildFault(callID uint32, ctxID uint16, status uint32) []byte {
	b := header(PTypeFault, FlagFirstFrag|FlagLastFrag|0x20, callID) // did not execute
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint16(b, ctxID)
	b = append(b, 0, 0)
	b = binary.LittleEndian.AppendUint32(b, status)
	b = binary.LittleEndian.AppendUint32(b, 0)
	return finish(b, nil)
}

// BuildAuth3 encodes an rpc_auth_3 PDU carrying a verifier.
func BuildAuth3(callID uint32, auth Auth) []byte {
	b := header(PTypeAuth3, FlagFirstFrag|FlagLastFrag, callID)
	b = binary.LittleEndian.AppendUint16(b, 4280)
	b = binary.LittleEndian.AppendUint16(b, 4280)
	return finish(b, &auth)
}
