package dcerpc

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/mappings/network"
	"github.com/castellan-itdr/castellan/mappings/network/ntlm"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

var (
	drsuapiSyntax = MustSyntax("e3514235-4b06-11d1-ab04-00c04fc2dcd2", 4, 0)
	samrSyntax    = MustSyntax("12345778-1234-abcd-ef00-0123456789ac", 1, 0)
	efsrSyntax    = MustSyntax("c681d488-d850-11d0-8c52-00c04fd90f7e", 1, 0)
	ts            = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
)

func newConv(evs *[]schema.Event) *network.Conv {
	flow := network.Flow{Transport: network.TCP, Client: netip.MustParseAddrPort("10.0.0.9:50123"),
		Server: netip.MustParseAddrPort("10.0.0.1:49667")}
	return network.NewConv(flow, network.NewEnv(func(e schema.Event) { *evs = append(*evs, e) }, nil, 1<<20))
}

func TestSyntaxText(t *testing.T) {
	for _, u := range []string{"e3514235-4b06-11d1-ab04-00c04fc2dcd2", "12345778-1234-abcd-ef00-0123456789ac",
		"df1941c5-fe89-4e79-bf10-463657acf44d"} {
		if got := MustSyntax(u, 1, 0).String(); got != u {
			t.Errorf("%s renders as %s", u, got)
		}
	}
	// The wire keeps data1..data3 little-endian: 35 42 51 e3 06 4b d1 11.
	b := BuildBind(1, false, nil, drsuapiSyntax)
	if got := b[32:40]; string(got) != "\x35\x42\x51\xe3\x06\x4b\xd1\x11" {
		t.Errorf("wire uuid % x", got)
	}
}

// A DCSync as Mimikatz/Impacket make it: bind DRSUAPI with NTLMSSP,
// DRSBind, then a DRSGetNCChanges split in two fragments, answered.
func TestCallsAreNamedAndAnswered(t *testing.T) {
	var evs []schema.Event
	conv := newConv(&evs)
	h := New().NewHandler(conv)
	auth := &Auth{Type: 10, Level: 6, Value: ntlmAuthenticate("LAB", "mallory")}
	in := [][]byte{
		BuildBind(1, false, nil, drsuapiSyntax),
		BuildAuth3(1, *auth),
		BuildRequest(2, FlagFirstFrag|FlagLastFrag, 0, 0, make([]byte, 40), &Auth{Type: 10, Level: 6, Value: make([]byte, 16)}),
		BuildRequest(3, FlagFirstFrag, 0, 3, make([]byte, 100), nil),
		BuildRequest(3, FlagLastFrag, 0, 3, make([]byte, 50), nil),
		BuildRequest(4, FlagFirstFrag|FlagLastFrag, 7, 9, nil, nil), // unknown context
	}
	var stream []byte
	for _, p := range in {
		stream = append(stream, p...)
	}
	// Delivered in odd-sized chunks: framing must reassemble.
	for len(stream) > 0 {
		n := min(37, len(stream))
		h.Data(network.ToServer, ts, stream[:n])
		stream = stream[n:]
	}
	h.Data(network.ToClient, ts, append(append(BuildBindAck(1, false, "49667", nil, 0),
		BuildResponse(2, FlagFirstFrag|FlagLastFrag, 0, make([]byte, 8))...),
		BuildFault(3, 0, 5)...))
	h.Close(ts)
	if len(evs) != 3 {
		t.Fatalf("%d events, want 3: %+v", len(evs), evs)
	}
	bind, get, unknown := evs[0], evs[1], evs[2]
	if bind.RPC.Operation != "DRSBind" || bind.RPC.Opnum != "0" || bind.RPC.Interface != "drsuapi" ||
		bind.Event.Outcome != schema.OutcomeSuccess || bind.RPC.AuthLevel != "privacy" || bind.User.Name != "mallory" ||
		bind.RPC.InterfaceVersion != "4.0" || bind.RPC.Transport != "tcp" || bind.Event.Kind != schema.KindRPCCall {
		t.Errorf("DRSBind: %+v %+v", bind.RPC, bind.Event)
	}
	if get.RPC.Operation != "DRSGetNCChanges" || get.RPC.Opnum != "3" || get.Event.Outcome != schema.OutcomeFailure ||
		get.RPC.Status != "0x00000005" || get.Event.Reason != "access denied" || get.Original["Fragments"] != "2" ||
		get.RPC.InterfaceUUID != "e3514235-4b06-11d1-ab04-00c04fc2dcd2" {
		t.Errorf("DRSGetNCChanges: %+v %+v %v", get.RPC, get.Event, get.Original)
	}
	if unknown.RPC.Interface != "" || unknown.RPC.Opnum != "9" || unknown.Event.Outcome != schema.OutcomeUnknown {
		t.Errorf("unknown context: %+v", unknown.RPC)
	}
	if conv.Env.Counters.Malformed != 0 {
		t.Errorf("malformed %d", conv.Env.Counters.Malformed)
	}
}

// Contexts: alter_context adds an interface; a rejected context is dropped.
func TestAlterContextAndRejection(t *testing.T) {
	var evs []schema.Event
	conv := newConv(&evs)
	s := NewStream(conv, TransportSMB, "lsarpc")
	s.User = schema.User{Name: "alice", Domain: "LAB"}
	s.Data(network.ToServer, ts, BuildBind(1, false, nil, samrSyntax, drsuapiSyntax))
	s.Data(network.ToClient, ts, BuildBindAck(1, false, `\PIPE\lsass`, nil, 0, 2))
	s.Data(network.ToServer, ts, BuildBind(2, true, nil, MustSyntax("00000000-0000-0000-0000-000000000000", 0, 0), efsrSyntax))
	s.Data(network.ToServer, ts, BuildRequest(3, 3, 1, 0, nil, nil))  // efsr (alter ctx 1) EfsRpcOpenFileRaw
	s.Data(network.ToServer, ts, BuildRequest(4, 3, 0, 13, nil, nil)) // ctx 0 is now the null uuid
	s.Close()
	if len(evs) != 2 {
		t.Fatalf("%d events", len(evs))
	}
	if evs[0].RPC.Interface != "efsrpc" || evs[0].RPC.Operation != "EfsRpcOpenFileRaw" || evs[0].RPC.Pipe != "lsarpc" ||
		evs[0].RPC.Transport != "smb" || evs[0].User.Name != "alice" {
		t.Errorf("efsr: %+v user %+v", evs[0].RPC, evs[0].User)
	}
	if evs[1].RPC.InterfaceUUID != "00000000-0000-0000-0000-000000000000" || evs[1].RPC.Operation != "" {
		t.Errorf("ctx 0: %+v", evs[1].RPC)
	}

	// Rejection: ctx 1 (drsuapi) rejected in the ack, so a request on it
	// names no interface.
	evs = nil
	s = NewStream(newConv(&evs), TransportTCP, "")
	s.Data(network.ToServer, ts, BuildBind(1, false, nil, samrSyntax, drsuapiSyntax))
	s.Data(network.ToClient, ts, BuildBindAck(1, false, "49667", nil, 0, 2))
	s.Data(network.ToServer, ts, BuildRequest(2, 3, 1, 3, nil, nil))
	s.Close()
	if len(evs) != 1 || evs[0].RPC.Interface != "" {
		t.Errorf("rejected context still named: %+v", evs)
	}
}

// The return value ends the last response fragment's stub; an NTSTATUS
// error makes the call a failure; a sealed stub is not read.
func TestReturnValue(t *testing.T) {
	var evs []schema.Event
	s := NewStream(newConv(&evs), TransportTCP, "")
	s.Data(network.ToServer, ts, BuildBind(1, false, nil, MustSyntax("12345678-1234-abcd-ef00-01234567cffb", 1, 0)))
	s.Data(network.ToServer, ts, BuildRequest(2, 3, 0, 26, make([]byte, 40), nil))
	s.Data(network.ToServer, ts, BuildRequest(3, 3, 0, 4, make([]byte, 40), nil))
	s.Data(network.ToServer, ts, BuildRequest(4, 3, 0, 30, make([]byte, 40), nil))
	s.Data(network.ToClient, ts, BuildResponse(2, 3, 0, []byte{1, 2, 3, 4, 5, 6, 7, 8, 0x22, 0, 0, 0xc0}))
	s.Data(network.ToClient, ts, BuildResponse(3, 1, 0, []byte{0xff, 0xff, 0xff, 0xff})) // first fragment only
	s.Data(network.ToClient, ts, BuildResponse(3, 2, 0, []byte{9, 9, 9, 9, 0, 0, 0, 0}))
	sealed := BuildResponse(4, 3, 0, []byte{0x22, 0, 0, 0xc0})
	sealed = finishSealed(sealed)
	s.Data(network.ToClient, ts, sealed)
	s.Close()
	if len(evs) != 3 {
		t.Fatalf("%d events", len(evs))
	}
	if e := evs[0]; e.RPC.Operation != "NetrServerAuthenticate3" || e.RPC.ReturnValue != "0xc0000022" ||
		e.Event.Outcome != schema.OutcomeFailure || e.Event.Reason != "access denied" {
		t.Errorf("authenticate3: %+v %+v", e.RPC, e.Event)
	}
	if e := evs[1]; e.RPC.ReturnValue != "0x00000000" || e.Event.Outcome != schema.OutcomeSuccess {
		t.Errorf("challenge: %+v %+v", e.RPC, e.Event)
	}
	if e := evs[2]; e.RPC.ReturnValue != "" || e.Event.Outcome != schema.OutcomeSuccess {
		t.Errorf("sealed: %+v %+v", e.RPC, e.Event)
	}
}

// finishSealed adds a privacy-level verifier to a built PDU.
func finishSealed(b []byte) []byte {
	binary.LittleEndian.PutUint16(b[8:], 0)
	return finish(b, &Auth{Type: 10, Level: 6, Value: make([]byte, 16)})
}

func TestBigEndianDrep(t *testing.T) {
	b := BuildRequest(0x01020304, 3, 1, 12, []byte{1, 2, 3, 4}, nil)
	// Re-encode the integers big-endian.
	b[4] = 0x00
	fl := binary.LittleEndian.Uint16(b[8:])
	binary.BigEndian.PutUint16(b[8:], fl)
	binary.BigEndian.PutUint32(b[12:], 0x01020304)
	binary.BigEndian.PutUint32(b[16:], 4)
	binary.BigEndian.PutUint16(b[20:], 1)
	binary.BigEndian.PutUint16(b[22:], 12)
	h, err := ParseHeader(b)
	if err != nil || !h.BigEndian || h.FragLen != int(fl) || h.CallID != 0x01020304 {
		t.Fatalf("%+v %v", h, err)
	}
	r, err := ParseRequest(&h, b)
	if err != nil || r.ContextID != 1 || r.Opnum != 12 || r.Stub != 4 {
		t.Errorf("%+v %v", r, err)
	}
}

func TestSniff(t *testing.T) {
	if !Sniff(BuildBind(1, false, nil, drsuapiSyntax)) || !Sniff(BuildBind(1, true, nil, samrSyntax)) {
		t.Error("bind not recognized")
	}
	for _, b := range [][]byte{
		BuildRequest(1, 3, 0, 0, make([]byte, 80), nil),     // not a bind
		[]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),         // text
		BuildBind(1, false, nil),                            // no context
		append([]byte{5, 0, 11, 3}, make([]byte, 100)...),   // frag_length 0
		BuildBind(1, false, nil, drsuapiSyntax)[:HeaderLen], // truncated
	} {
		if Sniff(b) {
			t.Errorf("sniffed % x", b[:min(len(b), 16)])
		}
	}
}

// Bytes that are not DCE/RPC are counted malformed and stop the direction.
func TestGarbage(t *testing.T) {
	var evs []schema.Event
	conv := newConv(&evs)
	h := New().NewHandler(conv)
	h.Data(network.ToServer, ts, []byte("\x16\x03\x01\x02\x00garbage garbage garbage"))
	h.Data(network.ToServer, ts, BuildRequest(1, 3, 0, 0, nil, nil)) // still broken
	h.Gap(network.ToServer)
	h.Data(network.ToServer, ts, BuildRequest(2, 3, 0, 0, nil, nil)) // resynchronized
	h.Close(ts)
	if conv.Env.Counters.Malformed != 1 || len(evs) != 1 {
		t.Errorf("malformed %d events %d", conv.Env.Counters.Malformed, len(evs))
	}
}

// At most maxPending calls wait for an answer; the rest are emitted at once.
func TestPendingCap(t *testing.T) {
	var evs []schema.Event
	s := NewStream(newConv(&evs), TransportTCP, "")
	for i := 0; i < maxPending+10; i++ {
		s.Data(network.ToServer, ts, BuildRequest(uint32(i), 3, 0, 0, nil, nil))
	}
	if len(evs) != 10 || len(s.calls) != maxPending {
		t.Errorf("emitted %d, pending %d", len(evs), len(s.calls))
	}
	s.Close()
	if len(evs) != maxPending+10 {
		t.Errorf("after close %d", len(evs))
	}
}

func TestNames(t *testing.T) {
	for _, c := range []struct {
		uuid, iface string
		op          uint16
		name        string
	}{
		{"e3514235-4b06-11d1-ab04-00c04fc2dcd2", "drsuapi", 3, "DRSGetNCChanges"},
		{"e3514235-4b06-11d1-ab04-00c04fc2dcd2", "drsuapi", 5, "DRSReplicaAdd"},
		{"e3514235-4b06-11d1-ab04-00c04fc2dcd2", "drsuapi", 17, "DRSAddEntry"},
		{"12345778-1234-abcd-ef00-0123456789ac", "samr", 13, "SamrEnumerateUsersInDomain"},
		{"12345778-1234-abcd-ef00-0123456789ac", "samr", 64, "SamrConnect5"},
		{"12345778-1234-abcd-ef00-0123456789ac", "samr", 73, "SamrUnicodeChangePasswordUser4"},
		{"4b324fc8-1670-01d3-1278-5a47bf6ee188", "srvsvc", 12, "NetrSessionEnum"},
		{"4b324fc8-1670-01d3-1278-5a47bf6ee188", "srvsvc", 15, "NetrShareEnum"},
		{"12345778-1234-abcd-ef00-0123456789ab", "lsarpc", 15, "LsarLookupSids"},
		{"12345778-1234-abcd-ef00-0123456789ab", "lsarpc", 77, "LsarLookupNames4"},
		{"c681d488-d850-11d0-8c52-00c04fd90f7e", "efsrpc", 4, "EfsRpcEncryptFileSrv"},
		{"df1941c5-fe89-4e79-bf10-463657acf44d", "efsrpc", 0, "EfsRpcOpenFileRaw"},
		{"12345678-1234-abcd-ef00-0123456789ab", "spoolss", 65, "RpcRemoteFindFirstPrinterChangeNotificationEx"},
		{"12345678-1234-abcd-ef00-0123456789ab", "spoolss", 89, "RpcAddPrinterDriverEx"},
		{"12345678-1234-abcd-ef00-01234567cffb", "netlogon", 4, "NetrServerReqChallenge"},
		{"12345678-1234-abcd-ef00-01234567cffb", "netlogon", 26, "NetrServerAuthenticate3"},
		{"12345678-1234-abcd-ef00-01234567cffb", "netlogon", 30, "NetrServerPasswordSet2"},
		{"12345678-1234-abcd-ef00-01234567cffb", "netlogon", 39, "NetrLogonSamLogonEx"},
		{"50abc2a4-574d-40b3-9d66-ee4fd5fba076", "dnsserver", 0, "R_DnssrvOperation"},
		{"4fc742e0-4a10-11cf-8273-00aa004ae673", "netdfs", 12, "NetrDfsAddStdRoot"},
		{"a8e0653c-2744-4389-a61d-7373df8b2292", "fssagentrpc", 8, "IsPathSupported"},
		{"3dde7c30-165d-11d1-ab8f-00805f14db40", "backupkey", 0, "BackuprKey"},
		{"86d35949-83c9-4044-b424-db363231fd0c", "tsch", 1, "SchRpcRegisterTask"},
		{"367abb81-9844-35f1-ad32-98f038001003", "svcctl", 12, "RCreateServiceW"},
		{"000001a0-0000-0000-c000-000000000046", "iremotescmactivator", 4, "RemoteCreateInstance"},
		{"9556dc99-828c-11cf-a37e-00aa003240c7", "iwbemservices", 24, "ExecMethod"},
	} {
		i := Lookup(c.uuid)
		if i == nil || i.Name != c.iface || i.Operation(c.op) != c.name {
			t.Errorf("%s %d: got %v %q", c.uuid, c.op, i, i.Operation(c.op))
		}
	}
}

// ntlmAuthenticate builds a minimal NTLMSSP AUTHENTICATE (NTLMv2-sized NT
// response, OEM strings).
func ntlmAuthenticate(domain, user string) []byte {
	return ntlm.BuildAuthenticate(0, make([]byte, 24), make([]byte, 60), domain, user, "WS", false)
}

// FuzzStream feeds arbitrary bytes to both directions of a stream: errors
// are counted, never a panic, and nothing is held beyond the caps.
func FuzzStream(f *testing.F) {
	f.Add(BuildBind(1, false, nil, drsuapiSyntax), BuildBindAck(1, false, "135", nil, 0))
	f.Add(append(BuildBind(1, true, &Auth{Type: 10, Level: 2, Value: ntlmAuthenticate("D", "u")}, samrSyntax),
		BuildRequest(2, 1, 0, 13, []byte{1, 2, 3}, nil)...), BuildFault(2, 0, 0x1c010002))
	f.Add(BuildRequest(9, 0x83, 0, 3, make([]byte, 30), &Auth{Type: 9, Level: 6, Value: []byte("x")}),
		BuildResponse(9, 3, 0, nil))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		var evs []schema.Event
		conv := newConv(&evs)
		s := NewStream(conv, TransportTCP, "")
		s.Data(network.ToServer, ts, a)
		s.Data(network.ToClient, ts, b)
		s.Gap(network.ToServer)
		s.Data(network.ToServer, ts, b)
		if len(s.contexts) > maxContexts || len(s.calls) > maxPending {
			t.Fatalf("caps exceeded: %d contexts %d calls", len(s.contexts), len(s.calls))
		}
		s.Close()
		if conv.Env.Buffered() != 0 {
			t.Fatalf("buffered %d after close", conv.Env.Buffered())
		}
		if len(evs) > len(a)+len(b) {
			t.Fatalf("%d events from %d bytes", len(evs), len(a)+len(b))
		}
	})
}

// BenchmarkCall measures one request and its response through a bound
// stream (the per-call hot path).
func BenchmarkCall(b *testing.B) {
	var n int
	conv := network.NewConv(network.Flow{Transport: network.TCP, Client: netip.MustParseAddrPort("10.0.0.9:50123"),
		Server: netip.MustParseAddrPort("10.0.0.1:49667")}, network.NewEnv(func(schema.Event) { n++ }, nil, 1<<20))
	s := NewStream(conv, TransportTCP, "")
	s.Data(network.ToServer, ts, BuildBind(1, false, nil, drsuapiSyntax))
	req := BuildRequest(2, 3, 0, 3, make([]byte, 200), nil)
	resp := BuildResponse(2, 3, 0, make([]byte, 1000))
	b.SetBytes(int64(len(req) + len(resp)))
	for b.Loop() {
		s.Data(network.ToServer, ts, req)
		s.Data(network.ToClient, ts, resp)
	}
	if n != b.N {
		b.Fatalf("%d events for %d calls", n, b.N)
	}
}
