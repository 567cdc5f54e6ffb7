package smb

import (
	"net/netip"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/mappings/network"
	"github.com/castellan-itdr/castellan/mappings/network/dcerpc"
	"github.com/castellan-itdr/castellan/mappings/network/ntlm"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

var (
	ts         = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	samrSyntax = dcerpc.MustSyntax("12345778-1234-abcd-ef00-0123456789ac", 1, 0)
	srvsSyntax = dcerpc.MustSyntax("4b324fc8-1670-01d3-1278-5a47bf6ee188", 3, 0)
	fid        = FileID{1, 0, 0, 0, 0, 0, 0, 0, 0xaa, 0xbb}
)

func newConv(evs *[]schema.Event) *network.Conv {
	flow := network.Flow{Transport: network.TCP, Client: netip.MustParseAddrPort("10.0.0.9:50123"),
		Server: netip.MustParseAddrPort("10.0.0.1:445")}
	return network.NewConv(flow, network.NewEnv(func(e schema.Event) { *evs = append(*evs, e) }, nil, 1<<20))
}

// ntlmAuthenticate builds a minimal NTLMSSP AUTHENTICATE (NTLMv2-sized).
func ntlmAuthenticate(domain, user string) []byte {
	return ntlm.BuildAuthenticate(0, make([]byte, 24), make([]byte, 60), domain, user, "WS", false)
}

type exchange struct {
	h    network.Handler
	id   uint64
	sess uint64
	tree uint32
}

func (x *exchange) req(b []byte)  { x.h.Data(network.ToServer, ts, NBSSRecord(b)) }
func (x *exchange) resp(b []byte) { x.h.Data(network.ToClient, ts, NBSSRecord(b)) }
func (x *exchange) msg(cmd uint16) Msg {
	return Msg{Command: cmd, MessageID: x.id, TreeID: x.tree, SessionID: x.sess}
}

// rpcclient-style SAMR enumeration: NTLM session, IPC$, \samr via WRITE/READ
// and FSCTL_PIPE_TRANSCEIVE, CLOSE.
func TestSAMROverNamedPipe(t *testing.T) {
	var evs []schema.Event
	conv := newConv(&evs)
	x := &exchange{h: New().NewHandler(conv), sess: 0x4400000001}
	x.id = 2
	x.req(BuildSessionSetup(x.msg(0), ntlmAuthenticate("LAB", "alice")))
	x.resp(BuildSessionSetupResponse(x.msg(0), nil))
	x.id, x.tree = 3, 0
	x.req(BuildTreeConnect(x.msg(0), `\\10.0.0.1\IPC$`))
	x.tree = 7
	x.resp(BuildTreeConnectResponse(x.msg(0), true))
	x.id = 4
	x.req(BuildCreate(x.msg(0), "samr"))
	x.resp(BuildCreateResponse(x.msg(0), fid))
	x.id = 5
	x.req(BuildWrite(x.msg(0), fid, dcerpc.BuildBind(1, false, nil, samrSyntax)))
	x.resp(BuildWriteResponse(x.msg(0), 72))
	x.id = 6
	x.req(BuildRead(x.msg(0), fid, 4280))
	x.resp(BuildReadResponse(x.msg(0), dcerpc.BuildBindAck(1, false, `\PIPE\lsass`, nil, 0)))
	x.id = 7
	x.req(BuildIoctl(x.msg(0), fid, dcerpc.BuildRequest(2, 3, 0, 64, make([]byte, 20), nil)))
	x.resp(BuildIoctlResponse(x.msg(0), fid, dcerpc.BuildResponse(2, 3, 0, make([]byte, 28))))
	x.id = 8
	x.req(BuildIoctl(x.msg(0), fid, dcerpc.BuildRequest(3, 3, 0, 13, make([]byte, 32), nil)))
	// An interim STATUS_PENDING answer, then the final one.
	pend := x.msg(0)
	pend.Status = StatusPending
	x.resp(BuildIoctlResponse(pend, fid, nil))
	x.resp(BuildIoctlResponse(x.msg(0), fid, dcerpc.BuildResponse(3, 3, 0, make([]byte, 12))))
	x.id = 9
	x.req(BuildIoctl(x.msg(0), fid, dcerpc.BuildRequest(4, 3, 0, 1, make([]byte, 20), nil)))
	x.req(BuildClose(x.msg(0), fid)) // closes the pipe: call 4 unanswered
	x.h.Close(ts)

	if conv.Env.Counters.Malformed != 0 {
		t.Errorf("malformed %d", conv.Env.Counters.Malformed)
	}
	if len(evs) != 4 {
		t.Fatalf("%d events: %+v", len(evs), evs)
	}
	if evs[0].Event.Kind != schema.KindNTLMAuth || evs[0].Event.Outcome != schema.OutcomeSuccess {
		t.Errorf("ntlm: %+v", evs[0].Event)
	}
	want := []struct{ op, outcome string }{
		{"SamrConnect5", schema.OutcomeSuccess},
		{"SamrEnumerateUsersInDomain", schema.OutcomeSuccess},
		{"SamrCloseHandle", schema.OutcomeUnknown},
	}
	for i, w := range want {
		e := evs[i+1]
		if e.Event.Kind != schema.KindRPCCall || e.RPC.Operation != w.op || e.Event.Outcome != w.outcome ||
			e.RPC.Interface != "samr" || e.RPC.Pipe != "samr" || e.RPC.Transport != "smb" ||
			e.User.Name != "alice" || e.User.Domain != "LAB" || e.Destination.Port != 445 {
			t.Errorf("call %d: %+v %+v user %+v", i, e.RPC, e.Event, e.User)
		}
	}
}

// A CREATE on a disk share is not a pipe, even when named like one; on a
// tree whose TREE_CONNECT was not seen, a known pipe name is trusted.
func TestPipeRecognition(t *testing.T) {
	var evs []schema.Event
	x := &exchange{h: New().NewHandler(newConv(&evs)), sess: 1}
	x.id, x.tree = 1, 0
	x.req(BuildTreeConnect(x.msg(0), `\\dc\NETLOGON`))
	x.tree = 5
	x.resp(BuildTreeConnectResponse(x.msg(0), false))
	x.id = 2
	x.req(BuildCreate(x.msg(0), "srvsvc"))
	x.resp(BuildCreateResponse(x.msg(0), fid))
	x.id = 3
	x.req(BuildWrite(x.msg(0), fid, dcerpc.BuildBind(1, false, nil, srvsSyntax)))
	x.req(BuildWrite(x.msg(0), fid, dcerpc.BuildRequest(2, 3, 0, 12, nil, nil)))
	if len(x.h.(*handler).pipes) != 0 {
		t.Error("file on a disk share taken for a pipe")
	}
	// Unknown tree 9, known pipe name with a \PIPE\ prefix.
	x.tree, x.id = 9, 4
	fid2 := FileID{2}
	x.req(BuildCreate(x.msg(0), `\PIPE\SRVSVC`))
	x.resp(BuildCreateResponse(x.msg(0), fid2))
	x.req(BuildWrite(x.msg(0), fid2, append(dcerpc.BuildBind(1, false, nil, srvsSyntax),
		dcerpc.BuildRequest(2, 3, 0, 12, nil, nil)...)))
	x.h.Close(ts)
	if len(evs) != 1 || evs[0].RPC.Operation != "NetrSessionEnum" || evs[0].RPC.Pipe != "srvsvc" || evs[0].User.Name != "" {
		t.Errorf("events %+v", evs)
	}
	// A failed CREATE opens nothing.
	evs = nil
	x = &exchange{h: New().NewHandler(newConv(&evs)), sess: 1, tree: 9, id: 1}
	x.req(BuildCreate(x.msg(0), "lsarpc"))
	fail := x.msg(0)
	fail.Status = 0xc0000034
	x.resp(BuildCreateResponse(fail, fid))
	if len(x.h.(*handler).pipes) != 0 {
		t.Error("failed CREATE opened a pipe")
	}
}

func TestEncryptedAndGarbage(t *testing.T) {
	var evs []schema.Event
	conv := newConv(&evs)
	h := New().NewHandler(conv)
	tr := append([]byte("\xfdSMB"), make([]byte, 48)...)
	rec := append([]byte{0, 0, 0, byte(len(tr))}, tr...)
	h.Data(network.ToServer, ts, rec)
	h.Data(network.ToServer, ts, rec)
	if conv.Env.Counters.Encrypted != 1 {
		t.Errorf("encrypted %d", conv.Env.Counters.Encrypted)
	}
	h.Data(network.ToServer, ts, []byte{0x00, 0, 0, 8, 'x', 'S', 'M', 'B', 0, 0, 0, 0})
	h.Data(network.ToClient, ts, []byte("HTTP/1.1 200 OK\r\n"))
	h.Close(ts)
	if conv.Env.Counters.Malformed != 2 || len(evs) != 0 {
		t.Errorf("malformed %d events %d", conv.Env.Counters.Malformed, len(evs))
	}
}

// FuzzSMB feeds arbitrary SMB2 messages (framed) to both directions after
// a pipe is open, so the fuzzer reaches the pipe and RPC paths.
func FuzzSMB(f *testing.F) {
	m := Msg{MessageID: 5, TreeID: 1, SessionID: 1}
	f.Add(BuildWrite(m, fid, dcerpc.BuildBind(1, false, nil, samrSyntax)), BuildReadResponse(m, dcerpc.BuildBindAck(1, false, "", nil, 0)))
	f.Add(BuildIoctl(m, fid, dcerpc.BuildRequest(2, 3, 0, 13, nil, nil)), BuildIoctlResponse(m, fid, dcerpc.BuildFault(2, 0, 5)))
	f.Add(BuildCreate(m, "lsarpc"), BuildCreateResponse(m, FileID{3}))
	f.Add(BuildSessionSetup(m, ntlmAuthenticate("D", "u")), BuildSessionSetupResponse(m, nil))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		var evs []schema.Event
		conv := newConv(&evs)
		x := &exchange{h: New().NewHandler(conv), sess: 1, tree: 0, id: 1}
		x.req(BuildTreeConnect(x.msg(0), `\\s\IPC$`))
		x.tree = 1
		x.resp(BuildTreeConnectResponse(x.msg(0), true))
		x.id = 2
		x.req(BuildCreate(x.msg(0), "samr"))
		x.resp(BuildCreateResponse(x.msg(0), fid))
		x.req(a)
		x.resp(b)
		x.h.Data(network.ToServer, ts, a) // unframed too
		x.h.Gap(network.ToServer)
		hd := x.h.(*handler)
		if len(hd.pipes) > maxPipes || len(hd.pending) > maxPending || len(hd.trees) > maxTrees {
			t.Fatalf("caps exceeded")
		}
		x.h.Close(ts)
		if conv.Env.Buffered() != 0 {
			t.Fatalf("buffered %d after close", conv.Env.Buffered())
		}
	})
}

// BenchmarkPipeCall measures one RPC call through FSCTL_PIPE_TRANSCEIVE on
// an open pipe.
func BenchmarkPipeCall(b *testing.B) {
	var evs []schema.Event
	conv := newConv(&evs)
	conv.Env.Emit = func(schema.Event) {}
	x := &exchange{h: New().NewHandler(conv), sess: 1, id: 1}
	x.req(BuildTreeConnect(x.msg(0), `\\s\IPC$`))
	x.tree = 1
	x.resp(BuildTreeConnectResponse(x.msg(0), true))
	x.id = 2
	x.req(BuildCreate(x.msg(0), "samr"))
	x.resp(BuildCreateResponse(x.msg(0), fid))
	x.req(BuildWrite(x.msg(0), fid, dcerpc.BuildBind(1, false, nil, samrSyntax)))
	req := NBSSRecord(BuildIoctl(x.msg(0), fid, dcerpc.BuildRequest(2, 3, 0, 13, make([]byte, 40), nil)))
	resp := NBSSRecord(BuildIoctlResponse(x.msg(0), fid, dcerpc.BuildResponse(2, 3, 0, make([]byte, 400))))
	b.SetBytes(int64(len(req) + len(resp)))
	for b.Loop() {
		x.h.Data(network.ToServer, ts, req)
		x.h.Data(network.ToClient, ts, resp)
	}
	if conv.Env.Counters.Events != int64(b.N) {
		b.Fatalf("%d events for %d calls", conv.Env.Counters.Events, b.N)
	}
}
