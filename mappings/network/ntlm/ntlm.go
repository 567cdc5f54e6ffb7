package ntlm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/castellan-itdr/castellan/mappings/network"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// Signature starts every NTLMSSP message.
var Signature = []byte("NTLMSSP\x00")

// Message types.
const (
	TypeNegotiate    = 1
	TypeChallenge    = 2
	TypeAuthenticate = 3
)

// Negotiate flags used here.
const (
	flagUnicode = 0x00000001
	flagESS     = 0x00080000 // extended session security (NTLM2 session response)
)

// AV pair ids.
const (
	avEOL             = 0
	avNbComputerName  = 1
	avNbDomainName    = 2
	avDNSComputerName = 3
	avDNSDomainName   = 4
	avFlags           = 6
)

// ErrMalformed reports a message that is not NTLMSSP.
var ErrMalformed = errors.New("ntlm: malformed message")

// Message is a decoded NTLMSSP message.
type Message struct {
	Type  int
	Flags uint32
	// AUTHENTICATE fields.
	User, Domain, Workstation string
	LMLen, NTLen              int
	LMZero                    bool // LM response is all zeros (or absent)
	MIC                       bool
	// CHALLENGE target info.
	NbComputer, NbDomain, DNSComputer, DNSDomain string
}

// Version names the response version: "v2", "v1", "lm", or "" for an
// anonymous AUTHENTICATE.
func (m *Message) Version() string {
	switch {
	case m.NTLen > 24:
		return "v2"
	case m.NTLen == 24:
		return "v1"
	case m.LMLen > 1 && !m.LMZero:
		return "lm"
	}
	return ""
}

// Anonymous reports an anonymous AUTHENTICATE (no user, empty responses).
func (m *Message) Anonymous() bool {
	return m.User == "" && m.NTLen == 0 && (m.LMLen == 0 || m.LMZero)
}

// Find returns the offset of the first NTLMSSP signature in b, or -1.
func Find(b []byte) int { return bytes.Index(b, Signature) }

// field reads a (len, maxlen, offset) security buffer at off of msg.
func field(msg []byte, off int) ([]byte, bool) {
	if off+8 > len(msg) {
		return nil, false
	}
	l := int(binary.LittleEndian.Uint16(msg[off:]))
	o := int(binary.LittleEndian.Uint32(msg[off+4:]))
	if l == 0 {
		return nil, true
	}
	if o < 0 || o > len(msg) || l > len(msg)-o {
		return nil, false
	}
	return msg[o : o+l], true
}

func (m *Message) str(b []byte) string {
	if m.Flags&flagUnicode != 0 {
		return network.UTF16(b)
	}
	return network.Text(b)
}

// Parse decodes an NTLMSSP message starting at b[0] (trailing bytes are
// ignored). It never allocates more than the strings it returns.
func Parse(b []byte) (Message, error) {
	var m Message
	if len(b) < 12 || !bytes.HasPrefix(b, Signature) {
		return m, ErrMalformed
	}
	m.Type = int(binary.LittleEndian.Uint32(b[8:]))
	switch m.Type {
	case TypeNegotiate:
		return m, nil
	case TypeChallenge:
		if len(b) < 32 {
			return m, ErrMalformed
		}
		m.Flags = binary.LittleEndian.Uint32(b[20:])
		if len(b) >= 48 {
			if ti, ok := field(b, 40); ok {
				m.avPairs(ti, func(id int, v []byte) {
					switch id {
					case avNbComputerName:
						m.NbComputer = network.UTF16(v)
					case avNbDomainName:
						m.NbDomain = network.UTF16(v)
					case avDNSComputerName:
						m.DNSComputer = network.UTF16(v)
					case avDNSDomainName:
						m.DNSDomain = network.UTF16(v)
					}
				})
			}
		}
		return m, nil
	case TypeAuthenticate:
		return m, m.parseAuthenticate(b)
	}
	return m, ErrMalformed
}

func (m *Message) parseAuthenticate(b []byte) error {
	if len(b) < 64 {
		return ErrMalformed
	}
	m.Flags = binary.LittleEndian.Uint32(b[60:])
	lm, ok1 := field(b, 12)
	nt, ok2 := field(b, 20)
	dom, ok3 := field(b, 28)
	user, ok4 := field(b, 36)
	ws, ok5 := field(b, 44)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 {
		return ErrMalformed
	}
	m.LMLen, m.NTLen = len(lm), len(nt)
	m.LMZero = allZero(lm)
	m.Domain, m.User, m.Workstation = m.str(dom), m.str(user), m.str(ws)
	// The MIC field (bytes 72..88) exists when the payload starts after it.
	minOff := len(b)
	for _, off := range []int{12, 20, 28, 36, 44, 52} {
		if l := binary.LittleEndian.Uint16(b[off:]); l > 0 {
			minOff = min(minOff, int(binary.LittleEndian.Uint32(b[off+4:])))
		}
	}
	if minOff >= 88 && len(b) >= 88 && !allZero(b[72:88]) {
		m.MIC = true
	}
	// NTLMv2: MsvAvFlags bit 0x2 in the client's AV pairs says a MIC is sent.
	if len(nt) > 44 {
		m.avPairs(nt[44:], func(id int, v []byte) {
			if id == avFlags && len(v) >= 4 && binary.LittleEndian.Uint32(v)&0x2 != 0 {
				m.MIC = true
			}
		})
	}
	return nil
}

func (m *Message) avPairs(b []byte, fn func(id int, v []byte)) {
	for i := 0; i < 64 && len(b) >= 4; i++ {
		id := int(binary.LittleEndian.Uint16(b))
		l := int(binary.LittleEndian.Uint16(b[2:]))
		if id == avEOL || 4+l > len(b) {
			return
		}
		fn(id, b[4:4+l])
		b = b[4+l:]
	}
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// Learn records a CHALLENGE's server name for the conversation's server.
func Learn(c *network.Conv, m *Message) {
	name := m.DNSComputer
	if name == "" {
		name = m.NbComputer
	}
	if c.Env.Name(c.Flow.Server.Addr()) == "" { // the first name wins
		c.Env.LearnName(c.Flow.Server.Addr(), strings.ToLower(name))
	}
}

// Event builds the ntlm_auth event of an AUTHENTICATE message carried by
// carrier ("smb2", "http", "ldap"). The caller sets the outcome.
func Event(c *network.Conv, ts time.Time, index int, m *Message, carrier string) schema.Event {
	ev := c.NewEvent(ts, index, schema.KindNTLMAuth)
	ev.Event.Action = "credentials-validated"
	ev.Event.Code = "NTLMSSP_AUTH"
	ev.Event.Outcome = schema.OutcomeUnknown
	ev.Auth.Protocol = "ntlm"
	ev.Auth.Package = "NTLM"
	ev.User = schema.User{Name: m.User, Domain: m.Domain, IsMachine: strings.HasSuffix(m.User, "$")}
	ev.Source.Hostname = m.Workstation
	ev.Auth.NTLM = schema.NTLM{Version: m.Version(), Workstation: m.Workstation}
	// Presized for these keys and those the carriers add (Anonymous,
	// SessionId, Status): no growth.
	o := make(map[string]string, 16)
	o["TargetUserName"] = m.User
	o["TargetDomainName"] = m.Domain
	o["Workstation"] = m.Workstation
	o["Carrier"] = carrier
	o["NegotiateFlags"] = Hex(uint64(m.Flags))
	o["NtResponseLength"] = strconv.Itoa(m.NTLen)
	o["LmResponseLength"] = strconv.Itoa(m.LMLen)
	o["MIC"] = strconv.FormatBool(m.MIC)
	o["LmPackageName"] = lmPackage(m)
	o["ExtendedSessionSecurity"] = strconv.FormatBool(m.Flags&flagESS != 0)
	ev.Original = o
	if m.Anonymous() {
		ev.Original["Anonymous"] = "true"
	}
	return ev
}

// Hex renders v as "0x…" (lower case, no leading zeros) in one
// allocation ("0x0" in none).
func Hex(v uint64) string {
	if v == 0 {
		return "0x0"
	}
	var buf [18]byte
	return string(strconv.AppendUint(append(buf[:0], "0x"...), v, 16))
}

// lmPackage names the response as Windows' 4624 LmPackageName does.
func lmPackage(m *Message) string {
	switch m.Version() {
	case "v2":
		return "NTLM V2"
	case "v1":
		return "NTLM V1"
	case "lm":
		return "LM"
	}
	return "-"
}

// SetStatus sets the outcome from an NTSTATUS (0 = success).
func SetStatus(ev *schema.Event, status uint32) {
	code := Hex(uint64(status))
	ev.Original["Status"] = code
	if status == 0 {
		ev.Event.Outcome = schema.OutcomeSuccess
		return
	}
	ev.Event.Outcome = schema.OutcomeFailure
	ev.Auth.FailureCode = code
	ev.Event.Reason = statusReasons[status]
}

var statusReasons = map[uint32]string{
	0xc000006d: "logon failure",
	0xc000006a: "bad password",
	0xc0000064: "no such user",
	0xc0000072: "account disabled",
	0xc0000234: "account locked out",
	0xc0000071: "password expired",
	0xc000015b: "logon type not granted",
	0xc0000022: "access denied",
}
