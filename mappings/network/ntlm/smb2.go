package ntlm

import (
	"encoding/binary"
	"time"

	"github.com/castellan-itdr/castellan/mappings/network"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

const (
	smb2HeaderLen        = 64
	smb2FlagResponse     = 0x1
	statusMoreProcessing = 0xc0000016
	maxSMBPending        = 64
)

type pendingAuth struct {
	ev      schema.Event
	session uint64
}

// maxSessionUsers caps the session → user map of one connection.
const maxSessionUsers = 1024

// SessionSetups follows NTLMSSP in the SMB2 SESSION_SETUP commands of one
// connection: CHALLENGEs teach the server's name, AUTHENTICATEs become
// ntlm_auth events completed by the server's final status, and the user
// of each authenticated session is remembered for the session's later
// commands (package smb names the caller of named-pipe RPC with it). The
// SMB2 dissector of package smb hands it every SESSION_SETUP.
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
		ev.Original["SessionId"] = Hex(session)
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
