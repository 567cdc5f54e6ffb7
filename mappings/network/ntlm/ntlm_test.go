package ntlm

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/mappings/network"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// auth builds an AUTHENTICATE with the given response lengths and names (OEM).
func auth(lmLen, ntLen int, mic bool) []byte {
	base := 64
	if mic {
		base = 88
	}
	msg := make([]byte, base)
	copy(msg, Signature)
	binary.LittleEndian.PutUint32(msg[8:], 3)
	fields := [][]byte{make([]byte, lmLen), make([]byte, ntLen), []byte("DOM"), []byte("bob"), []byte("WS1"), nil}
	fields[0] = append(fields[0][:0], make([]byte, lmLen)...)
	for i := range fields[0] {
		fields[0][i] = 1
	}
	off := base
	for i, p := range fields {
		binary.LittleEndian.PutUint16(msg[12+8*i:], uint16(len(p)))
		binary.LittleEndian.PutUint32(msg[16+8*i:], uint32(off))
		off += len(p)
	}
	if mic {
		msg[72] = 0xaa
	}
	for _, p := range fields {
		msg = append(msg, p...)
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

// FuzzNTLM parses arbitrary NTLMSSP messages and feeds them to the SMB2 and
// HTTP carriers.
func FuzzNTLM(f *testing.F) {
	f.Add(auth(24, 24, false))
	f.Add(auth(24, 120, true))
	f.Add([]byte("NTLMSSP\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := Parse(b); err == nil && len(m.User) > 4*len(b) {
			t.Fatalf("user name longer than input")
		}
		ts := time.Unix(1, 0)
		for _, d := range []network.Dissector{NewSMB2(), NewHTTP()} {
			h := d.NewHandler(conv(d.Ports()[0].Number))
			h.Data(network.ToServer, ts, b)
			h.Data(network.ToClient, ts, b)
			h.Close(ts)
		}
	})
}
