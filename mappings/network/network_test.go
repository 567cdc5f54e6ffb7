package network

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

func TestParseTLV(t *testing.T) {
	// [APPLICATION 10] { SEQUENCE { INTEGER 5 } } with a long-form length.
	b := []byte{0x6a, 0x81, 0x05, 0x30, 0x03, 0x02, 0x01, 0x05, 0xff}
	tl, rest, err := ParseTLV(b)
	if err != nil || !tl.Is(ClassApplication, 10) || !tl.Constructed || len(tl.Body) != 5 || len(rest) != 1 {
		t.Fatalf("%+v %v %v", tl, rest, err)
	}
	for _, bad := range [][]byte{{0x30, 0x80, 0, 0}, {0x30, 0x85, 1, 1, 1, 1, 1}, {0x30, 0x05, 1}, {0x30}} {
		if _, _, err := ParseTLV(bad); err == nil {
			t.Errorf("% x accepted", bad)
		}
	}
	if n, _, err := HeaderLen([]byte{0x30, 0x84, 0, 0}); n != 0 || err != nil {
		t.Errorf("partial header: %d %v", n, err)
	}
}

func TestBufferCaps(t *testing.T) {
	var got [][]byte
	env := NewEnv(nil, nil, 100)
	c := NewConv(Flow{Transport: TCP}, env)
	b := c.NewBuffer(16)
	// 2-byte length-prefixed frames.
	frame := func(p []byte) (int, error) {
		if len(p) < 2 {
			return 0, nil
		}
		return 2 + (int(p[0])<<8 | int(p[1])), nil
	}
	msg := func(m []byte) { got = append(got, append([]byte(nil), m...)) }
	b.Feed([]byte{0, 3, 'a'}, frame, msg)
	b.Feed([]byte{'b', 'c', 0, 1}, frame, msg)
	if env.Buffered() != 2 {
		t.Fatalf("buffered %d", env.Buffered())
	}
	b.Feed([]byte{'d', 0, 40}, frame, msg) // a 42-byte frame: over the cap, skipped
	b.Feed(make([]byte, 40), frame, msg)
	b.Feed([]byte{0, 1, 'e'}, frame, msg)
	if len(got) != 3 || string(got[0][2:]) != "abc" || string(got[1][2:]) != "d" || string(got[2][2:]) != "e" {
		t.Fatalf("frames %q", got)
	}
	if env.Counters.DroppedBytes != 42 || env.Buffered() != 0 {
		t.Fatalf("dropped %d buffered %d", env.Counters.DroppedBytes, env.Buffered())
	}
}

func TestEventIDStable(t *testing.T) {
	f := Flow{Transport: TCP, Client: netip.MustParseAddrPort("10.0.0.5:49152"), Server: netip.MustParseAddrPort("10.0.0.1:88")}
	ts := time.Unix(1700000000, 5)
	a := EventID(f, ts, 1, schema.KindKerberosTGT)
	if a != EventID(f, ts, 1, schema.KindKerberosTGT) || a == EventID(f, ts, 2, schema.KindKerberosTGT) ||
		a == EventID(f, ts, 1, schema.KindKerberosServiceTicket) {
		t.Fatal("ids not stable and distinct")
	}
	env := NewEnv(func(schema.Event) {}, nil, 0)
	env.LearnName(f.Server.Addr(), "dc1.lab.test")
	ev := NewConv(f, env).NewEvent(ts, 1, schema.KindKerberosTGT)
	if ev.ID != a || ev.Host.Name != "dc1.lab.test" || ev.Source.Port != 49152 || ev.Event.Dataset != "netsensor" {
		t.Fatalf("%+v", ev)
	}
}

// EventID is schema.StableID of its parts (the ids of every golden event
// depend on it), for every kind of address.
func TestEventIDIsStableID(t *testing.T) {
	ts := time.Unix(1700000000, 5)
	for _, f := range []Flow{
		{Transport: TCP, Client: netip.MustParseAddrPort("10.0.0.5:49152"), Server: netip.MustParseAddrPort("10.0.0.1:88")},
		{Transport: UDP, Client: netip.MustParseAddrPort("[fe80::1%eth0]:5353"), Server: netip.MustParseAddrPort("[2001:db8::53]:53")},
		{Transport: TCP, Client: netip.MustParseAddrPort("[::ffff:10.0.0.5]:1"), Server: netip.AddrPort{}},
		{Transport: Transport(99), Client: netip.AddrPortFrom(netip.IPv4Unspecified(), 0)},
	} {
		for _, idx := range []int{0, 7, 123456} {
			want := schema.StableID(Dataset, f.Transport.String(), f.Client.String(), f.Server.String(),
				strconv.FormatInt(ts.UnixNano(), 10), strconv.Itoa(idx), string(schema.KindDNSQuery))
			if got := EventID(f, ts, idx, schema.KindDNSQuery); got != want {
				t.Errorf("%v %d: id %s, want %s", f, idx, got, want)
			}
		}
	}
}

func TestAppendTextIsText(t *testing.T) {
	long := make([]byte, MaxString+10)
	for i := range long {
		long[i] = 'a'
	}
	for _, in := range []string{"", "krbtgt", "LAB.TEST", "a\x00b", "caf\xc3\xa9", "\xff\xfe", "x\x7fy", "\xe2\x82", string(long)} {
		if got, want := string(AppendText([]byte("p/"), []byte(in))), "p/"+Text([]byte(in)); got != want {
			t.Errorf("%q: AppendText %q, Text %q", in, got, want)
		}
	}
}

// utf16Reference is UTF16 as first written (utf16.Decode then string):
// the one-allocation version must render exactly the same.
func utf16Reference(b []byte) string {
	n := min(len(b)/2, MaxString)
	u := make([]uint16, n)
	for i := range u {
		u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
	}
	rs := utf16.Decode(u)
	for i, r := range rs {
		if r < 0x20 || r == 0x7f {
			rs[i] = utf8.RuneError
		}
	}
	return string(rs)
}

func TestUTF16(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	units := []uint16{'A', 'z', 0, 0x1f, 0x7f, 0xe9, 0x4e2d, 0xd83d, 0xde00, 0xdbff, 0xdfff, 0xfffd, 0xffff}
	for range 5000 {
		b := make([]byte, 0, 40)
		for range rng.IntN(20) {
			u := units[rng.IntN(len(units))]
			b = append(b, byte(u), byte(u>>8))
		}
		if rng.IntN(4) == 0 {
			b = append(b, 'x') // odd length
		}
		if got, want := UTF16(b), utf16Reference(b); got != want {
			t.Fatalf("% x: %q, want %q", b, got, want)
		}
	}
	long := make([]byte, 2*MaxString+8)
	for i := range long {
		long[i] = "a\x00"[i%2]
	}
	if got, want := UTF16(long), utf16Reference(long); got != want || len(got) != MaxString {
		t.Fatalf("long: %d bytes, reference %d", len(got), len(want))
	}
}

func TestRegistry(t *testing.T) {
	if _, err := NewRegistry(fake{"a"}, fake{"b"}); err == nil {
		t.Fatal("duplicate port accepted")
	}
	r, _ := NewRegistry(fake{"a"})
	if d, toDst, ok := r.Lookup(TCP, 50000, 99); !ok || !toDst || d.Name() != "a" {
		t.Fatal("lookup by destination")
	}
	if _, toDst, ok := r.Lookup(TCP, 99, 50000); !ok || toDst {
		t.Fatal("lookup by source")
	}
	if _, _, ok := r.Lookup(UDP, 99, 1); ok {
		t.Fatal("wrong transport matched")
	}
}

type fake struct{ name string }

func (f fake) Name() string           { return f.name }
func (fake) Ports() []Port            { return []Port{{TCP, 99}} }
func (fake) NewHandler(*Conv) Handler { return nil }

// A message spanning many segments is reassembled intact, into a buffer
// sized once from its framed length and reused for the next one: steady
// state costs no allocation. A handler breaking the direction mid-Feed
// stops the framing there.
func TestBufferReuse(t *testing.T) {
	env := NewEnv(nil, nil, 1<<20)
	c := NewConv(Flow{Transport: TCP}, env)
	b := c.NewBuffer(128 << 10)
	frame := func(p []byte) (int, error) {
		if len(p) < 4 {
			return 0, nil
		}
		return 4 + int(binary.BigEndian.Uint32(p)), nil
	}
	want := make([]byte, 4+64<<10)
	binary.BigEndian.PutUint32(want, 64<<10)
	for i := 4; i < len(want); i++ {
		want[i] = byte(i * 7)
	}
	var got int
	msg := func(m []byte) {
		if !bytes.Equal(m, want) {
			t.Fatalf("message of %d bytes differs", len(m))
		}
		got++
	}
	feed := func() {
		for off := 0; off < len(want); off += 1460 {
			b.Feed(want[off:min(off+1460, len(want))], frame, msg)
		}
	}
	feed()
	if got != 1 || env.Buffered() != 0 {
		t.Fatalf("%d messages, %d buffered", got, env.Buffered())
	}
	if allocs := testing.AllocsPerRun(20, feed); allocs != 0 {
		t.Errorf("%.1f allocations per reassembled message, want 0", allocs)
	}
	if got != 22 {
		t.Errorf("%d messages", got)
	}
	// Break inside msg: the second message of the same Feed is not framed.
	b2 := c.NewBuffer(128 << 10)
	n := 0
	two := append(append([]byte(nil), 0, 0, 0, 1, 'a'), 0, 0, 0, 1, 'b')
	b2.Feed(two, frame, func([]byte) { n++; b2.Break() })
	if n != 1 || env.Buffered() != 0 {
		t.Errorf("after Break: %d messages, %d buffered", n, env.Buffered())
	}
}
