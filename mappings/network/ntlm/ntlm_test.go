package ntlm

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/mappings/network"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// auth builds an AUTHENTICATE with the given response lengths and names (OEM).
func auth(lmLen, ntLen int, mic bool) []byte {
	msg := BuildAuthenticate(0, bytes.Repeat([]byte{1}, lmLen), make([]byte, ntLen), "DOM", "bob", "WS1", mic)
	if mic {
		msg[72] = 0xaa
	}
	return msg
}

func TestVersions(t *testing.T) {
	for _, c := range []struct {
		lm, nt int
		mic    bool
		want   string
	}{{24, 24, false, "v1"}, {24, 120, true, "v2"}, {24, 0, false, "lm"}} {
		m, err := Parse(auth(c.lm, c.nt, c.mic))
		if err != nil {
			t.Fatal(err)
		}
		if m.Version() != c.want || m.User != "bob" || m.Domain != "DOM" || m.Workstation != "WS1" || m.MIC != c.mic {
			t.Errorf("%+v: got %s %+v", c, m.Version(), m)
		}
	}
	// Names in UTF-16 when the unicode flag is set.
	m, err := Parse(BuildAuthenticate(flagUnicode, make([]byte, 24), make([]byte, 24), "DÖM", "bøb", "WS1", false))
	if err != nil || m.Domain != "DÖM" || m.User != "bøb" || m.Workstation != "WS1" || m.Version() != "v1" {
		t.Errorf("unicode: %v %+v", err, m)
	}
	// An offset past the end is malformed, not a panic.
	b := auth(24, 24, false)
	binary.LittleEndian.PutUint32(b[40:], 1<<30)
	if _, err := Parse(b); err == nil {
		t.Error("bad offset accepted")
	}
}

func conv(port uint16) *network.Conv {
	return network.NewConv(network.Flow{Transport: network.TCP, Client: netip.MustParseAddrPort("10.0.0.5:50000"),
		Server: netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), port)}, network.NewEnv(func(schema.Event) {}, nil, 1<<20))
}

// sessionSetup builds an SMB2 SESSION_SETUP request (or, with status, a
// response) whose security buffer is blob.
func sessionSetup(response bool, status uint32, blob []byte) []byte {
	le := binary.LittleEndian
	m := make([]byte, smb2HeaderLen+24)
	copy(m, "\xfeSMB")
	le.PutUint16(m[4:], smb2HeaderLen)
	le.PutUint32(m[8:], status)
	le.PutUint16(m[12:], 1) // SESSION_SETUP
	le.PutUint64(m[24:], 7) // MessageId
	le.PutUint64(m[40:], 9) // SessionId
	body := m[smb2HeaderLen:]
	if response {
		m[16] = smb2FlagResponse
		le.PutUint16(body[4:], uint16(len(m)))
		le.PutUint16(body[6:], uint16(len(blob)))
	} else {
		le.PutUint16(body[12:], uint16(len(m)))
		le.PutUint16(body[14:], uint16(len(blob)))
	}
	return append(m, blob...)
}

// FuzzNTLM parses arbitrary NTLMSSP messages and feeds them to the SMB2
// SESSION_SETUP and HTTP carriers.
func FuzzNTLM(f *testing.F) {
	f.Add(auth(24, 24, false))
	f.Add(auth(24, 120, true))
	f.Add([]byte("NTLMSSP\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := Parse(b); err == nil && len(m.User) > 4*len(b) {
			t.Fatalf("user name longer than input")
		}
		ts := time.Unix(1, 0)
		d := NewHTTP()
		h := d.NewHandler(conv(d.Ports()[0].Number))
		h.Data(network.ToServer, ts, b)
		h.Data(network.ToClient, ts, b)
		h.Close(ts)

		c := conv(445)
		s := NewSessionSetups(c)
		s.Command(ts, sessionSetup(false, 0, b))
		s.Command(ts, sessionSetup(true, 0xc000006d, b))
		s.Command(ts, b)
		s.Close()
		if len(s.pending) != 0 || len(s.users) > maxSessionUsers {
			t.Fatalf("state left: %d pending, %d users", len(s.pending), len(s.users))
		}
	})
}

// An AUTHENTICATE in SESSION_SETUP becomes one ntlm_auth event once the
// server answers; a failed session does not name a user, a good one does.
func TestSessionSetups(t *testing.T) {
	for _, c := range []struct {
		status  uint32
		outcome string
	}{{0, schema.OutcomeSuccess}, {0xc000006d, schema.OutcomeFailure}} {
		var evs []schema.Event
		cv := network.NewConv(network.Flow{Transport: network.TCP, Client: netip.MustParseAddrPort("10.0.0.5:50000"),
			Server: netip.MustParseAddrPort("10.0.0.1:445")}, network.NewEnv(func(e schema.Event) { evs = append(evs, e) }, nil, 1<<20))
		s := NewSessionSetups(cv)
		ts := time.Unix(1, 0)
		s.Command(ts, sessionSetup(false, 0, auth(24, 120, true)))
		if len(evs) != 0 {
			t.Fatalf("emitted before the answer: %+v", evs)
		}
		s.Command(ts, sessionSetup(true, c.status, nil))
		if len(evs) != 1 || evs[0].Event.Kind != schema.KindNTLMAuth || evs[0].Event.Outcome != c.outcome ||
			evs[0].User.Name != "bob" || evs[0].Original["Carrier"] != "smb2" || evs[0].Original["SessionId"] != "0x9" {
			t.Fatalf("status %#x: %+v", c.status, evs)
		}
		u, ok := s.User(9)
		if ok != (c.status == 0) || ok && u.Name != "bob" {
			t.Errorf("status %#x: session user %+v %v", c.status, u, ok)
		}
		s.Close()
		if len(evs) != 1 {
			t.Errorf("close re-emitted: %d events", len(evs))
		}
	}
}
