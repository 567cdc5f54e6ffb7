package pcapgen

import (
	"encoding/binary"
	"strings"
)

// Kerberos message types and pre-authentication data types (RFC 4120,
// MS-KILE).
const (
	krbASReq    = 10
	krbASRep    = 11
	krbTGSReq   = 12
	krbTGSRep   = 13
	krbAPReq    = 14
	krbError    = 30
	paTGSReq    = 1
	paEncTS     = 2
	paPACReq    = 128
	paETypeInfo = 19
)

// Encryption types.
const (
	EtypeAES256 int32 = 18
	EtypeAES128 int32 = 17
	EtypeRC4    int32 = 23
)

// Kerberos error codes.
const (
	KDCErrCPrincipalUnknown int32 = 0x6
	KDCErrSPrincipalUnknown int32 = 0x7
	KDCErrPreauthFailed     int32 = 0x18
	KDCErrPreauthRequired   int32 = 0x19
)

// WindowsEtypes is what a current Windows client offers in an AS-REQ.
var WindowsEtypes = []int32{EtypeAES256, EtypeAES128, EtypeRC4, 24, -135}

// KDCReq describes an AS-REQ or a TGS-REQ.
type KDCReq struct {
	Realm string
	// Client is the cname of an AS-REQ (a TGS-REQ's client is inside the
	// encrypted authenticator and is not sent in clear).
	Client string
	// Service is the sname: "krbtgt/REALM" for an AS-REQ, the SPN for a
	// TGS-REQ.
	Service string
	Etypes  []int32
	// Preauth adds PA-ENC-TIMESTAMP (encrypted with PreauthEtype) to an
	// AS-REQ.
	Preauth      bool
	PreauthEtype int32
	// PAC adds PA-PAC-REQUEST include-pac TRUE.
	PAC     bool
	Options uint32
	Nonce   uint32
	// TGTEtype is the etype of the TGT a TGS-REQ presents (enc-part of
	// the ticket inside PA-TGS-REQ); default AES256.
	TGTEtype int32
}

// KDCRep describes an AS-REP or TGS-REP.
type KDCRep struct {
	Realm   string
	Client  string
	Service string
	// TicketEtype encrypts the ticket (the service's key); EncPartEtype
	// the reply part (the client's key for AS, the session key for TGS).
	TicketEtype, EncPartEtype int32
}

// principalName encodes a PrincipalName: "a/b" is NT-SRV-INST with two
// components, a name without "/" NT-PRINCIPAL.
func principalName(name string) []byte {
	parts := strings.Split(name, "/")
	typ := int64(1)
	if len(parts) > 1 {
		typ = 2
	}
	var strs [][]byte
	for _, p := range parts {
		strs = append(strs, derGeneralString(p))
	}
	return seq(ctx(0, derInt(typ)), ctx(1, seq(strs...)))
}

// encryptedData encodes EncryptedData with n filler bytes of cipher.
func encryptedData(etype int32, kvno int64, n int) []byte {
	parts := [][]byte{ctx(0, derInt(int64(etype)))}
	if kvno > 0 {
		parts = append(parts, ctx(1, derInt(kvno)))
	}
	parts = append(parts, ctx(2, derOctets(filler(n))))
	return seq(parts...)
}

func ticket(realm, sname string, etype int32, size int) []byte {
	return app(1, seq(ctx(0, derInt(5)), ctx(1, derGeneralString(realm)), ctx(2, principalName(sname)),
		ctx(3, encryptedData(etype, 2, size))))
}

func padata(typ int64, val []byte) []byte { return seq(ctx(1, derInt(typ)), ctx(2, derOctets(val))) }

func (r KDCReq) body(tgs bool) []byte {
	parts := [][]byte{ctx(0, derBits32(r.Options))}
	if r.Client != "" && !tgs {
		parts = append(parts, ctx(1, principalName(r.Client)))
	}
	parts = append(parts, ctx(2, derGeneralString(r.Realm)))
	if r.Service != "" {
		parts = append(parts, ctx(3, principalName(r.Service)))
	}
	parts = append(parts, ctx(5, derTime("20370913024805Z")), ctx(7, derInt(int64(r.Nonce))))
	var et [][]byte
	for _, e := range r.Etypes {
		et = append(et, derInt(int64(e)))
	}
	parts = append(parts, ctx(8, seq(et...)))
	return seq(parts...)
}

// ASReq encodes the request as an AS-REQ.
func (r KDCReq) ASReq() []byte {
	var pa [][]byte
	if r.Preauth {
		pa = append(pa, padata(paEncTS, encryptedData(r.PreauthEtype, 0, 56)))
	}
	if r.PAC {
		pa = append(pa, padata(paPACReq, seq(ctx(0, derBool(true)))))
	}
	parts := [][]byte{ctx(1, derInt(5)), ctx(2, derInt(krbASReq))}
	if len(pa) > 0 {
		parts = append(parts, ctx(3, seq(pa...)))
	}
	parts = append(parts, ctx(4, r.body(false)))
	return app(krbASReq, seq(parts...))
}

// TGSReq encodes the request as a TGS-REQ presenting a TGT of the realm.
func (r KDCReq) TGSReq() []byte {
	et := r.TGTEtype
	if et == 0 {
		et = EtypeAES256
	}
	apReq := app(krbAPReq, seq(ctx(0, derInt(5)), ctx(1, derInt(krbAPReq)), ctx(2, derBits32(0)),
		ctx(3, ticket(r.Realm, "krbtgt/"+r.Realm, et, 1100)), ctx(4, encryptedData(et, 0, 180))))
	pa := [][]byte{padata(paTGSReq, apReq)}
	if r.PAC {
		pa = append(pa, padata(paPACReq, seq(ctx(0, derBool(true)))))
	}
	return app(krbTGSReq, seq(ctx(1, derInt(5)), ctx(2, derInt(krbTGSReq)), ctx(3, seq(pa...)), ctx(4, r.body(true))))
}

func (r KDCRep) encode(msgType int64) []byte {
	size := 1100 // a ticket with a PAC
	return app(byte(msgType), seq(ctx(0, derInt(5)), ctx(1, derInt(msgType)),
		ctx(3, derGeneralString(r.Realm)), ctx(4, principalName(r.Client)),
		ctx(5, ticket(r.Realm, r.Service, r.TicketEtype, size)), ctx(6, encryptedData(r.EncPartEtype, 1, 260))))
}

// ASRep encodes the reply as an AS-REP.
func (r KDCRep) ASRep() []byte { return r.encode(krbASRep) }

// TGSRep encodes the reply as a TGS-REP.
func (r KDCRep) TGSRep() []byte { return r.encode(krbTGSRep) }

// KRBError encodes a KRB-ERROR with code for client (may be empty) and
// service in realm.
func KRBError(code int32, realm, client, service string) []byte {
	parts := [][]byte{ctx(0, derInt(5)), ctx(1, derInt(krbError)), ctx(4, derTime("20261128090000Z")),
		ctx(5, derInt(1234)), ctx(6, derInt(int64(code)))}
	if client != "" {
		parts = append(parts, ctx(7, derGeneralString(realm)), ctx(8, principalName(client)))
	}
	parts = append(parts, ctx(9, derGeneralString(realm)), ctx(10, principalName(service)))
	if code == KDCErrPreauthRequired {
		info := seq(seq(ctx(0, derInt(int64(EtypeAES256))), ctx(1, derGeneralString(strings.ToUpper(realm)+client))))
		parts = append(parts, ctx(12, derOctets(seq(padata(paETypeInfo, info), padata(paEncTS, nil)))))
	}
	return app(krbError, seq(parts...))
}

// TCPFrame prefixes a Kerberos message with its 4-byte length, as sent
// over TCP.
func TCPFrame(msg []byte) []byte {
	return append(binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(msg)), uint32(len(msg))), msg...)
}

// fillerBlock is the deterministic filler of ciphertexts and file data.
var fillerBlock = func() []byte {
	b := make([]byte, 256<<10)
	x := uint64(0x9e3779b97f4a7c15)
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x)
	}
	return b
}()

// filler returns n bytes of pseudo-random data (n ≤ 256 KiB).
func filler(n int) []byte { return fillerBlock[:n] }
