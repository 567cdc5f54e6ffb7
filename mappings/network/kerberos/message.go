package kerberos

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	"github.com/castellan-itdr/castellan/mappings/network"
)

// Message types (RFC 4120 APPLICATION tags).
const (
	MsgASReq    = 10
	MsgASRep    = 11
	MsgTGSReq   = 12
	MsgTGSRep   = 13
	MsgKRBError = 30
)

// Pre-authentication data types used below.
const (
	PATGSReq       = 1
	PAEncTimestamp = 2
	PAPKASReqOld   = 14
	PAPKASReq      = 16
	PAPACRequest   = 128
	PAFXFast       = 136
	PAEncChallenge = 138
)

// Error codes with a meaning of their own here.
const (
	ErrPreauthFailed   = 0x18
	ErrPreauthRequired = 0x19
)

// maxList caps the elements of any SEQUENCE OF read.
const maxList = 64

// ErrMalformed reports a message that is not Kerberos.
var ErrMalformed = errors.New("kerberos: malformed message")

// Message is the clear-text part of a Kerberos message that detection needs.
type Message struct {
	Type int
	// Request fields (AS-REQ, TGS-REQ).
	KDCOptions uint32
	HasOptions bool
	Etypes     []int32
	PATypes    []int32
	// PACRequest is set when PA-PAC-REQUEST is present; IncludePAC is its
	// value.
	PACRequest, IncludePAC bool
	Nonce                  uint32
	// Names: client (cname) and its realm; server (sname) and its realm.
	CName, CRealm string
	SName, SRealm string
	// Reply fields (AS-REP, TGS-REP).
	TicketEtype  int32
	EncPartEtype int32
	// Error fields (KRB-ERROR).
	ErrorCode int32
	EText     string
}

// Name returns the message type's name: "AS-REQ", "KRB-ERROR", ….
func (m *Message) Name() string { return MessageName(m.Type) }

// MessageName names a message type.
func MessageName(t int) string {
	switch t {
	case MsgASReq:
		return "AS-REQ"
	case MsgASRep:
		return "AS-REP"
	case MsgTGSReq:
		return "TGS-REQ"
	case MsgTGSRep:
		return "TGS-REP"
	case MsgKRBError:
		return "KRB-ERROR"
	}
	return "KRB-" + strconv.Itoa(t)
}

// Parse decodes one Kerberos message (without the TCP length prefix).
func Parse(b []byte) (m Message, err error) {
	t, _, err := network.ParseTLV(b)
	if err != nil || t.Class != network.ClassApplication || !t.Constructed {
		return m, ErrMalformed
	}
	m.Type = t.Tag
	seq, _, err := network.ParseTLV(t.Body)
	if err != nil || !seq.Is(network.ClassUniversal, 16) {
		return m, ErrMalformed
	}
	switch t.Tag {
	case MsgASReq, MsgTGSReq:
		err = m.parseKDCReq(seq.Body)
	case MsgASRep, MsgTGSRep:
		err = m.parseKDCRep(seq.Body)
	case MsgKRBError:
		err = m.parseError(seq.Body)
	default:
		return m, fmt.Errorf("%w: application tag %d", ErrMalformed, t.Tag)
	}
	if err != nil {
		return m, fmt.Errorf("%w: %s: %v", ErrMalformed, m.Name(), err)
	}
	return m, nil
}

// fields calls fn with each [n] EXPLICIT field of a SEQUENCE body, unwrapped.
func fields(body []byte, fn func(n int, inner network.TLV) error) error {
	var ferr error
	err := network.Elements(body, maxList, func(f network.TLV) bool {
		if f.Class != network.ClassContext || !f.Constructed {
			ferr = network.ErrASN1
			return false
		}
		inner, _, err := network.ParseTLV(f.Body)
		if err != nil {
			ferr = err
			return false
		}
		if err := fn(f.Tag, inner); err != nil {
			ferr = err
			return false
		}
		return true
	})
	if err != nil {
		return err
	}
	return ferr
}

func int32Of(t network.TLV) (int32, error) {
	if !t.Is(network.ClassUniversal, 2) {
		return 0, network.ErrASN1
	}
	v, err := network.Int(t.Body)
	return int32(v), err
}

func (m *Message) parseKDCReq(body []byte) error {
	return fields(body, func(n int, f network.TLV) error {
		switch n {
		case 3: // padata
			return network.Elements(f.Body, maxList, func(pa network.TLV) bool {
				var typ int32
				var val []byte
				_ = fields(pa.Body, func(n int, f network.TLV) error {
					switch n {
					case 1:
						typ, _ = int32Of(f)
					case 2:
						val = f.Body
					}
					return nil
				})
				m.PATypes = append(m.PATypes, typ)
				if typ == PAPACRequest {
					m.PACRequest = true
					if seq, _, err := network.ParseTLV(val); err == nil {
						_ = fields(seq.Body, func(n int, f network.TLV) error {
							if n == 0 && len(f.Body) == 1 {
								m.IncludePAC = f.Body[0] != 0
							}
							return nil
						})
					}
				}
				return true
			})
		case 4:
			return m.parseReqBody(f.Body)
		}
		return nil
	})
}

func (m *Message) parseReqBody(body []byte) error {
	return fields(body, func(n int, f network.TLV) error {
		switch n {
		case 0: // KDCOptions BIT STRING
			if len(f.Body) >= 2 {
				var v [4]byte
				copy(v[:], f.Body[1:])
				m.KDCOptions = binary.BigEndian.Uint32(v[:])
				m.HasOptions = true
			}
		case 1:
			m.CName = principal(f.Body)
		case 2:
			m.CRealm = network.Text(f.Body)
			m.SRealm = m.CRealm
		case 3:
			m.SName = principal(f.Body)
		case 7:
			v, err := network.Int(f.Body)
			if err == nil {
				m.Nonce = uint32(v)
			}
		case 8:
			n := 0 // count first: one allocation for the list
			_ = network.Elements(f.Body, maxList, func(network.TLV) bool { n++; return true })
			if n > 0 {
				m.Etypes = make([]int32, 0, n)
			}
			return network.Elements(f.Body, maxList, func(e network.TLV) bool {
				if v, err := int32Of(e); err == nil {
					m.Etypes = append(m.Etypes, v)
				}
				return true
			})
		}
		return nil
	})
}

func (m *Message) parseKDCRep(body []byte) error {
	return fields(body, func(n int, f network.TLV) error {
		switch n {
		case 3:
			m.CRealm = network.Text(f.Body)
		case 4:
			m.CName = principal(f.Body)
		case 5: // Ticket ::= [APPLICATION 1] SEQUENCE
			seq, _, err := network.ParseTLV(f.Body)
			if err != nil {
				return err
			}
			return fields(seq.Body, func(n int, f network.TLV) error {
				switch n {
				case 1:
					m.SRealm = network.Text(f.Body)
				case 2:
					m.SName = principal(f.Body)
				case 3:
					m.TicketEtype = encEtype(f.Body)
				}
				return nil
			})
		case 6:
			m.EncPartEtype = encEtype(f.Body)
		}
		return nil
	})
}

func (m *Message) parseError(body []byte) error {
	return fields(body, func(n int, f network.TLV) error {
		switch n {
		case 6:
			v, err := int32Of(f)
			if err != nil {
				return err
			}
			m.ErrorCode = v
		case 7:
			m.CRealm = network.Text(f.Body)
		case 8:
			m.CName = principal(f.Body)
		case 9:
			m.SRealm = network.Text(f.Body)
		case 10:
			m.SName = principal(f.Body)
		case 11:
			m.EText = network.Text(f.Body)
		}
		return nil
	})
}

// principal renders a PrincipalName body as "part/part".
// It is built in one allocation.
func principal(body []byte) string {
	var buf [128]byte
	out, parts := buf[:0], 0
	_ = fields(body, func(n int, f network.TLV) error {
		if n == 1 {
			return network.Elements(f.Body, 8, func(s network.TLV) bool {
				if parts > 0 {
					out = append(out, '/')
				}
				out = network.AppendText(out, s.Body)
				parts++
				return true
			})
		}
		return nil
	})
	return string(out)
}

// encEtype reads the etype of an EncryptedData body.
func encEtype(body []byte) int32 {
	var et int32
	_ = fields(body, func(n int, f network.TLV) error {
		if n == 0 {
			et, _ = int32Of(f)
		}
		return nil
	})
	return et
}

// etypeNames names encryption types as mappings/windows does.
var etypeNames = map[int32]string{
	1: "des-cbc-crc", 2: "des-cbc-md4", 3: "des-cbc-md5", 16: "des3-cbc-sha1",
	17: "aes128-cts-hmac-sha1-96", 18: "aes256-cts-hmac-sha1-96",
	19: "aes128-cts-hmac-sha256-128", 20: "aes256-cts-hmac-sha384-192",
	23: "rc4-hmac", 24: "rc4-hmac-exp",
}

// EtypeName names an encryption type ("rc4-hmac"), or "" when unknown.
func EtypeName(e int32) string { return etypeNames[e] }

// errorNames are RFC 4120 error-code names and short reasons.
var errorNames = map[int32][2]string{
	0x6:  {"KDC_ERR_C_PRINCIPAL_UNKNOWN", "client not found"},
	0x7:  {"KDC_ERR_S_PRINCIPAL_UNKNOWN", "server not found"},
	0xc:  {"KDC_ERR_POLICY", "policy restriction"},
	0xe:  {"KDC_ERR_ETYPE_NOSUPP", "encryption type not supported"},
	0x12: {"KDC_ERR_CLIENT_REVOKED", "account disabled, expired or locked out"},
	0x17: {"KDC_ERR_KEY_EXPIRED", "password expired"},
	0x18: {"KDC_ERR_PREAUTH_FAILED", "bad password"},
	0x19: {"KDC_ERR_PREAUTH_REQUIRED", "pre-authentication required"},
	0x1f: {"KRB_AP_ERR_BAD_INTEGRITY", "integrity check failed"},
	0x20: {"KRB_AP_ERR_TKT_EXPIRED", "ticket expired"},
	0x25: {"KRB_AP_ERR_SKEW", "clock skew too great"},
	0x34: {"KRB_ERR_RESPONSE_TOO_BIG", "response too big for UDP"},
	0x3c: {"KRB_ERR_GENERIC", "generic error"},
	0x44: {"KDC_ERR_WRONG_REALM", "wrong realm"},
}
