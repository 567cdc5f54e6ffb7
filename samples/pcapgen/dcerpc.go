package pcapgen

import (
	"encoding/binary"
	"net/netip"

	"github.com/castellan-itdr/castellan/mappings/network/dcerpc"
)

// RPC interfaces (abstract syntaxes) of the calls the generator writes.
var (
	IfDRSUAPI  = dcerpc.MustSyntax("e3514235-4b06-11d1-ab04-00c04fc2dcd2", 4, 0)
	IfSAMR     = dcerpc.MustSyntax("12345778-1234-abcd-ef00-0123456789ac", 1, 0)
	IfLSARPC   = dcerpc.MustSyntax("12345778-1234-abcd-ef00-0123456789ab", 0, 0)
	IfSRVSVC   = dcerpc.MustSyntax("4b324fc8-1670-01d3-1278-5a47bf6ee188", 3, 0)
	IfEFSR     = dcerpc.MustSyntax("c681d488-d850-11d0-8c52-00c04fd90f7e", 1, 0)
	IfEFSRPipe = dcerpc.MustSyntax("df1941c5-fe89-4e79-bf10-463657acf44d", 1, 0)
	IfSpoolss  = dcerpc.MustSyntax("12345678-1234-abcd-ef00-0123456789ab", 1, 0)
	IfNetlogon = dcerpc.MustSyntax("12345678-1234-abcd-ef00-01234567cffb", 1, 0)
	IfEPM      = dcerpc.MustSyntax("e1af8308-5d1f-11c9-91a4-08002b14a0fa", 3, 0)
)

// RPCCall is one request and its answer: a response carrying RespSize
// bytes of stub whose last four (the return value) are Status, or, with
// Fault set, a fault PDU with status Fault.
type RPCCall struct {
	Opnum             uint16
	ReqSize, RespSize int
	Status            uint32
	Fault             uint32
}

// maxStub is the stub carried per fragment (4280-byte fragments).
const maxStub = 4280 - 24

// fragments splits a request or response stub into PDUs.
func fragments(stub []byte, build func(flags uint8, part []byte) []byte) []byte {
	var out []byte
	for first := true; first || len(stub) > 0; first = false {
		n := min(len(stub), maxStub)
		var flags uint8
		if first {
			flags |= dcerpc.FlagFirstFrag
		}
		if n == len(stub) {
			flags |= dcerpc.FlagLastFrag
		}
		out = append(out, build(flags, stub[:n])...)
		stub = stub[n:]
	}
	return out
}

// callPDUs returns a call's request and answer PDUs.
func callPDUs(callID uint32, c RPCCall) (req, resp []byte) {
	stub := append([]byte(nil), filler(max(c.ReqSize, 4))...)
	req = fragments(stub, func(flags uint8, part []byte) []byte {
		return dcerpc.BuildRequest(callID, flags, 0, c.Opnum, part, nil)
	})
	if c.Fault != 0 {
		return req, dcerpc.BuildFault(callID, 0, c.Fault)
	}
	out := append([]byte(nil), fillerBlock[1000:1000+max(c.RespSize, 4)]...)
	binary.LittleEndian.PutUint32(out[len(out)-4:], c.Status)
	resp = fragments(out, func(flags uint8, part []byte) []byte {
		return dcerpc.BuildResponse(callID, flags, 0, part)
	})
	return req, resp
}

// RPCOverTCP writes an RPC association over TCP (ncacn_ip_tcp) from
// client to server (the endpoint mapper's port 135 or a dynamic port):
// bind, bind_ack, then each call.
func (w *Writer) RPCOverTCP(client, server netip.AddrPort, iface dcerpc.SyntaxID, calls ...RPCCall) {
	c := w.Dial(client, server)
	c.Request(dcerpc.BuildBind(1, false, nil, iface), dcerpc.BuildBindAck(1, false, "49667", nil, 0))
	for i, call := range calls {
		req, resp := callPDUs(uint32(i+2), call)
		c.Request(req, resp)
	}
	c.Close()
}

// RPCOverPipe opens a named pipe (e.g. "samr") on the session's IPC$
// tree, binds iface with WRITE and READ, and makes each call with
// FSCTL_PIPE_TRANSCEIVE, as Windows clients do.
func (s *SMBSession) RPCOverPipe(pipe string, iface dcerpc.SyntaxID, calls ...RPCCall) {
	fid := s.OpenPipe(pipe)
	s.PipeWrite(fid, dcerpc.BuildBind(1, false, nil, iface))
	s.PipeRead(fid, dcerpc.BuildBindAck(1, false, `\PIPE\`+pipe, nil, 0))
	for i, call := range calls {
		req, resp := callPDUs(uint32(i+2), call)
		s.PipeTransceive(fid, req, resp)
	}
	s.ClosePipe(fid)
}
