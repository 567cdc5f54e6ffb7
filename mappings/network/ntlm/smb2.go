package ntlm

import (
	"encoding/binary"
	"time"

	"github.com/castellan-itdr/castellan/mappings/network"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// MaxSMBMessage caps an NBSS-framed SMB message held for decoding; larger
// ones (READ/WRITE data) are skipped, which is fine: only SESSION_SETUP
// matters here.
const MaxSMBMessage = 256 << 10

const (
	smb2HeaderLen        = 64
	smb2SessionSetup     = 1
	smb2FlagResponse     = 0x1
	statusMoreProcessing = 0xc0000016
	maxSMBPending        = 64
)

// SMB2 dissects NTLMSSP in SMB2 SESSION_SETUP over TCP 445 and 139, and
// nothing else. The network sensor runs smb.Dissector instead, which does
// the same through SessionSetups and also follows named pipes; this one
// remains for NTLM-only use.
type SMB2 struct{}

// NewSMB2 returns the SMB2 dissector.
func NewSMB2() SMB2 { return SMB2{} }

// Name returns "smb2".
func (SMB2) Name() string { return "smb2" }

// Ports claims TCP 445 and 139.
func (SMB2) Ports() []network.Port {
	return []network.Port{{Transport: network.TCP, Number: 445}, {Transport: network.TCP, Number: 139}}
}

// NewHandler returns the state of one SMB connection.
func (SMB2) NewHandler(c *network.Conv) network.Handler {
	return &smbHandler{conv: c, bufs: [2]*network.Buffer{c.NewBuffer(MaxSMBMessage), c.NewBuffer(MaxSMBMessage)},
		setups: NewSessionSetups(c)}
}

type pendingAuth struct {
	ev      schema.Event
	session uint64
}

type smbHandler struct {
	conv      *network.Conv
	bufs      [2]*network.Buffer
	setups    *SessionSetups
	encrypted bool
}

// nbss frames NetBIOS session service records (RFC 1002): type byte and
// 24-bit length (SMB2 direct TCP uses the same framing with type 0).
func nbss(b []byte) (int, error) {
	if len(b) < 4 {
		return 0, nil
	}
	switch b[0] {
	case 0x00, 0x81, 0x82, 0x83, 0x84, 0x85:
	default:
		return 0, network.ErrFraming
	}
	return 4 + (int(b[1])<<16 | int(b[2])<<8 | int(b[3])), nil
}

func (h *smbHandler) Data(dir network.Direction, ts time.Time, b []byte) {
	h.bufs[dir].Feed(b, nbss, func(m []byte) {
		if m[0] != 0 {
			return // session request / keep-alive
		}
		h.message(ts, m[4:])
	})
}

func (h *smbHandler) Gap(dir network.Direction) { h.bufs[dir].Gap() }

func (h *smbHandler) Close(time.Time) { h.setups.Close() }

func (h *smbHandler) message(ts time.Time, m []byte) {
	if len(m) < 4 {
		h.conv.Malformed()
		return
	}
	switch string(m[:4]) {
	case "\xfeSMB":
	case "\xfdSMB": // SMB3 transform header: encrypted
		if !h.encrypted {
			h.encrypted = true
			h.conv.Encrypted()
		}
		return
	case "\xffSMB", "\xfcSMB": // SMB1 (negotiate only), compressed
		h.conv.Decoded()
		return
	default:
		h.conv.Malformed()
		return
	}
	// Compounded requests: walk NextCommand.
	for i := 0; i < 16 && len(m) >= smb2HeaderLen; i++ {
		next := int(binary.LittleEndian.Uint32(m[20:]))
		cur := m
		if next > 0 && next <= len(m) {
			cur = m[:next]
		}
		h.command(ts, cur)
		if next <= 0 || next >= len(m) {
			return
		}
		m = m[next:]
	}
}

func (h *smbHandler) command(ts time.Time, m []byte) {
	if len(m) < smb2HeaderLen || string(m[:4]) != "\xfeSMB" {
		h.conv.Malformed()
		return
	}
	h.conv.Decoded()
	if binary.LittleEndian.Uint16(m[12:]) != smb2SessionSetup {
		return
	}
	h.setups.Command(ts, m)
}

// maxSessionUsers caps the session → user map of one connection.
const maxSessionUsers = 1024

// SessionSetups follows NTLMSSP in the SMB2 SESSION_SETUP commands of one
// connection: CHALLENGEs teach the server's name, AUTHENTICATEs become
// ntlm_auth events completed by the server's final status, and the user
// of each authenticated session is remembered for the session's later
// commands (package smb names the caller of named-pipe RPC with it).
type SessionSetups struct {
	conv    *network.Conv
	pending map[uint64]pendingAuth // AUTHENTICATEs by SMB2 MessageId
	order   []uint64
	users   map[uint64]schema.User // by SessionId
}

// NewSessionSetups returns the SESSION_SETUP state of one connection.
func NewSessionSetups(c *network.Conv) *SessionSetups {
	return &SessionSetups{conv: c, pending: map[uint64]pendingAuth{}, users: map[uint64]schema.User{}}
}

// User returns the user that authenticated SMB2 session id with NTLM, when
// the exchange was seen and did not fail.
func (s *SessionSetups) User(session uint64) (schema.User, bool) {
	u, ok := s.users[session]
	return u, ok
}

// Close emits the AUTHENTICATEs still unanswered (outcome unknown).
func (s *SessionSetups) Close() {
	for _, id := range s.order {
		if p, ok := s.pending[id]; ok {
			s.conv.Emit(p.ev)
		}
	}
	s.pending, s.order = map[uint64]pendingAuth{}, nil
}

// Command decodes one SESSION_SETUP request or response: m is the whole
// SMB2 command, starting at its 64-byte header.
func (s *SessionSetups) Command(ts time.Time, m []byte) {
	if len(m) < smb2HeaderLen {
		return
	}
	status := binary.LittleEndian.Uint32(m[8:])
	flags := binary.LittleEndian.Uint32(m[16:])
	msgID := binary.LittleEndian.Uint64(m[24:])
	var off, l int
	if flags&smb2FlagResponse != 0 {
		if len(m) < smb2HeaderLen+8 {
			return
		}
		off = int(binary.LittleEndian.Uint16(m[smb2HeaderLen+4:]))
		l = int(binary.LittleEndian.Uint16(m[smb2HeaderLen+6:]))
		if p, ok := s.pending[msgID]; ok && status != statusMoreProcessing {
			delete(s.pending, msgID)
			SetStatus(&p.ev, status)
			if status != 0 {
				delete(s.users, p.session)
			}
			s.conv.Emit(p.ev)
		}
	} else {
		if len(m) < smb2HeaderLen+16 {
			return
		}
		off = int(binary.LittleEndian.Uint16(m[smb2HeaderLen+12:]))
		l = int(binary.LittleEndian.Uint16(m[smb2HeaderLen+14:]))
	}
	if off < smb2HeaderLen || off > len(m) || l > len(m)-off {
		return
	}
	blob := m[off : off+l]
	i := Find(blob)
	if i < 0 {
		return // Kerberos or empty
	}
	nm, err := Parse(blob[i:])
	if err != nil {
		s.conv.Malformed()
		return
	}
	switch nm.Type {
	case TypeChallenge:
		Learn(s.conv, &nm)
	case TypeAuthenticate:
		session := binary.LittleEndian.Uint64(m[40:])
		ev := Event(s.conv, ts, s.conv.NextIndex(), &nm, "smb2")
		ev.Original["SessionId"] = "0x" + hex64(session)
		if _, known := s.users[session]; !nm.Anonymous() && (known || len(s.users) < maxSessionUsers) {
			s.users[session] = ev.User
		}
		if len(s.pending) >= maxSMBPending {
			s.conv.Emit(ev)
			return
		}
		s.pending[msgID] = pendingAuth{ev: ev, session: session}
		s.order = append(s.order, msgID)
	}
}

func hex64(v uint64) string {
	const digits = "0123456789abcdef"
	var b [16]byte
	i := len(b)
	for {
		i--
		b[i] = digits[v&0xf]
		v >>= 4
		if v == 0 {
			break
		}
	}
	return string(b[i:])
}
