package kerberos

import (
	"net/netip"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/mappings/network"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

func testConv(t network.Transport, emit func(schema.Event)) *network.Conv {
	return network.NewConv(network.Flow{Transport: t, Client: netip.MustParseAddrPort("10.0.0.5:50000"),
		Server: netip.MustParseAddrPort("10.0.0.1:88")}, network.NewEnv(emit, nil, 1<<20))
}

func TestEtypeNames(t *testing.T) {
	for e, want := range map[int32]string{23: "rc4-hmac", 18: "aes256-cts-hmac-sha1-96", 17: "aes128-cts-hmac-sha1-96", 3: "des-cbc-md5", 99: ""} {
		if got := EtypeName(e); got != want {
			t.Errorf("%d: %q", e, got)
		}
	}
}

func TestPreauthType(t *testing.T) {
	for _, c := range []struct {
		pa   []int32
		want string
	}{{nil, "0"}, {[]int32{150, 149}, "0"}, {[]int32{2, 150}, "2"}, {[]int32{16}, "16"}} {
		if got := preauthType(c.pa); got != c.want {
			t.Errorf("%v: %s", c.pa, got)
		}
	}
}

func TestTCPFramingRejectsHighBit(t *testing.T) {
	var n int
	c := testConv(network.TCP, func(schema.Event) { n++ })
	h := New().NewHandler(c)
	h.Data(network.ToServer, time.Unix(0, 0), []byte{0x80, 0, 0, 4, 1, 2, 3, 4})
	h.Close(time.Unix(0, 0))
	if c.Env.Counters.Malformed != 1 || n != 0 {
		t.Fatalf("malformed %d events %d", c.Env.Counters.Malformed, n)
	}
}

// FuzzKerberos runs arbitrary messages through Parse and through a TCP and
// a UDP conversation, both directions.
func FuzzKerberos(f *testing.F) {
	// AS-REQ skeleton and a KRB-ERROR skeleton.
	f.Add([]byte("\x6a\x1a\x30\x18\xa1\x03\x02\x01\x05\xa2\x03\x02\x01\x0a\xa4\x0c\x30\x0a\xa8\x08\x30\x06\x02\x01\x17\x02\x01\x12"))
	f.Add([]byte("\x7e\x0d\x30\x0b\xa6\x03\x02\x01\x18\xa9\x04\x1b\x02\x4c\x41"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = Parse(b)
		for _, tr := range []network.Transport{network.TCP, network.UDP} {
			c := testConv(tr, func(schema.Event) {})
			h := New().NewHandler(c)
			ts := time.Unix(1, 0)
			h.Data(network.ToServer, ts, b)
			h.Data(network.ToClient, ts, b)
			h.Gap(network.ToClient)
			h.Data(network.ToClient, ts, b)
			h.Close(ts)
			if c.Env.Buffered() < 0 {
				t.Fatal("negative buffer accounting")
			}
		}
	})
}
