package dcerpc

import (
	"strconv"
	"strings"
	"time"

	"github.com/castellan-itdr/castellan/mappings/network"
	"github.com/castellan-itdr/castellan/mappings/network/ntlm"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// MaxPDU is the largest PDU (frag_length is a 16-bit field).
const MaxPDU = 0xffff

const (
	// maxContexts caps the presentation contexts remembered per stream.
	maxContexts = 64
	// maxPending caps the unanswered calls remembered per stream; beyond
	// it a new call's event is emitted at once with outcome unknown.
	maxPending = 256
)

// Transport names for rpc.transport.
const (
	TransportTCP = "tcp"
	TransportSMB = "smb"
)

type call struct {
	ev    schema.Event
	frags int
}

// Stream follows the PDUs of one DCE/RPC association in both directions.
// It is driven from one goroutine.
type Stream struct {
	conv      *network.Conv
	transport string
	pipe      string
	// User is the identity the carrier authenticated (the SMB session
	// user); NTLMSSP in the association's own binds overrides it.
	User schema.User

	bufs     [2]*network.Buffer
	contexts map[uint16]context
	lastBind []uint16 // context ids of the last bind/alter_context, for its ack
	calls    map[uint32]*call
	order    []uint32
}

// NewStream returns the state of one association of conv. pipe is the SMB
// pipe name ("" over TCP), transport TransportTCP or TransportSMB.
func NewStream(conv *network.Conv, transport, pipe string) *Stream {
	return &Stream{conv: conv, transport: transport, pipe: pipe,
		bufs:     [2]*network.Buffer{conv.NewBuffer(MaxPDU), conv.NewBuffer(MaxPDU)},
		contexts: map[uint16]context{}, calls: map[uint32]*call{}}
}

// context is a bound presentation context with its event fields, rendered
// once at bind time rather than per call.
type context struct {
	uuid, version string
	iface         *Interface // nil when unknown
}

func newContext(syn SyntaxID) context {
	uuid := syn.String()
	return context{uuid: uuid, version: syn.Version(), iface: Lookup(uuid)}
}

// Data delivers the next bytes of one direction.
func (s *Stream) Data(dir network.Direction, ts time.Time, b []byte) {
	s.bufs[dir].Feed(b, Frame, func(p []byte) { s.pdu(dir, ts, p) })
}

// Gap reports lost bytes in dir: framing restarts at the next bytes.
func (s *Stream) Gap(dir network.Direction) { s.bufs[dir].Gap() }

// Close emits the calls still unanswered (outcome unknown) and releases
// the buffers.
func (s *Stream) Close() {
	for _, id := range s.order {
		if c, ok := s.calls[id]; ok {
			s.emit(c)
		}
	}
	s.calls, s.order = map[uint32]*call{}, nil
	s.bufs[0].Gap()
	s.bufs[1].Gap()
}

func (s *Stream) pdu(dir network.Direction, ts time.Time, p []byte) {
	h, err := ParseHeader(p)
	if err != nil || h.FragLen > len(p) {
		s.conv.Malformed()
		return
	}
	s.conv.Decoded()
	switch {
	case h.Type == PTypeBind || h.Type == PTypeAlterContext:
		if dir != network.ToServer {
			s.conv.Malformed()
			return
		}
		ctxs, err := ParseBind(&h, p)
		if err != nil {
			s.conv.Malformed()
		}
		s.lastBind = s.lastBind[:0]
		for _, c := range ctxs {
			if _, ok := s.contexts[c.ID]; !ok && len(s.contexts) >= maxContexts {
				continue
			}
			s.contexts[c.ID] = newContext(c.Abstract)
			s.lastBind = append(s.lastBind, c.ID)
		}
		s.learnUser(&h, p)
	case h.Type == PTypeBindAck || h.Type == PTypeAlterResp:
		results, err := ParseBindAck(&h, p)
		if err != nil {
			s.conv.Malformed()
		}
		for i, r := range results {
			if r != 0 && i < len(s.lastBind) {
				delete(s.contexts, s.lastBind[i])
			}
		}
		s.learnUser(&h, p) // a CHALLENGE names the server
	case h.Type == PTypeAuth3:
		s.learnUser(&h, p)
	case h.Type == PTypeRequest && dir == network.ToServer:
		s.request(ts, &h, p)
	case h.Type == PTypeResponse && dir == network.ToClient:
		if h.Flags&FlagLastFrag != 0 {
			s.answerResponse(&h, p)
		}
	case h.Type == PTypeFault && dir == network.ToClient:
		st, _ := FaultStatus(&h, p)
		s.answer(h.CallID, schema.OutcomeFailure, returnValue(st))
	}
}

// learnUser takes the user of an NTLMSSP AUTHENTICATE in the verifier
// (auth_type 10 NTLMSSP, or 9 SPNEGO wrapping it), and the server's name
// from a CHALLENGE.
func (s *Stream) learnUser(h *Header, p []byte) {
	a, ok := ParseAuth(h, p)
	if !ok || (a.Type != 9 && a.Type != 10) {
		return
	}
	i := ntlm.Find(a.Value)
	if i < 0 {
		return
	}
	m, err := ntlm.Parse(a.Value[i:])
	if err != nil {
		s.conv.Malformed()
		return
	}
	switch {
	case m.Type == ntlm.TypeChallenge:
		ntlm.Learn(s.conv, &m)
	case m.Type == ntlm.TypeAuthenticate && !m.Anonymous():
		s.User = schema.User{Name: m.User, Domain: m.Domain, IsMachine: strings.HasSuffix(m.User, "$")}
	}
}

func (s *Stream) request(ts time.Time, h *Header, p []byte) {
	r, err := ParseRequest(h, p)
	if err != nil {
		s.conv.Malformed()
		return
	}
	if c, ok := s.calls[h.CallID]; ok {
		if h.Flags&FlagFirstFrag == 0 {
			c.frags++
			return
		}
		// A new call reusing the id: the old one went unanswered.
		s.answer(h.CallID, schema.OutcomeUnknown, "")
	}
	ev := s.conv.NewEvent(ts, s.conv.NextIndex(), schema.KindRPCCall)
	ev.Event.Action = "rpc-call"
	ev.Event.Outcome = schema.OutcomeUnknown
	ev.User = s.User
	opnum := strconv.Itoa(int(r.Opnum))
	ev.RPC = schema.RPC{Opnum: opnum, Pipe: s.pipe, Transport: s.transport}
	if ctx, ok := s.contexts[r.ContextID]; ok {
		ev.RPC.InterfaceUUID, ev.RPC.InterfaceVersion = ctx.uuid, ctx.version
		if ctx.iface != nil {
			ev.RPC.Interface = ctx.iface.Name
			ev.RPC.Operation = ctx.iface.Operation(r.Opnum)
		}
	}
	if a, ok := ParseAuth(h, p); ok {
		ev.RPC.AuthLevel = AuthLevelName(a.Level)
	}
	ev.Original = map[string]string{
		"CallId":    strconv.FormatUint(uint64(h.CallID), 10),
		"ContextId": strconv.Itoa(int(r.ContextID)),
	}
	c := &call{ev: ev, frags: 1}
	if len(s.calls) >= maxPending {
		s.emit(c)
		return
	}
	s.calls[h.CallID] = c
	s.order = append(s.order, h.CallID)
}

// answerResponse completes a call with its last response fragment: the
// return value is read when the stub is not sealed.
func (s *Stream) answerResponse(h *Header, p []byte) {
	c, ok := s.calls[h.CallID]
	if !ok {
		return
	}
	outcome := schema.OutcomeSuccess
	if v, ok := ReturnValue(h, p); ok {
		c.ev.RPC.ReturnValue = returnValue(v)
		if v >= 0xc0000000 { // NTSTATUS error severity
			outcome = schema.OutcomeFailure
			c.ev.Event.Reason = statusName(v)
		}
	}
	s.answer(h.CallID, outcome, "")
}

// answer completes the pending call id with outcome (and fault status).
func (s *Stream) answer(id uint32, outcome, status string) {
	c, ok := s.calls[id]
	if !ok {
		return
	}
	delete(s.calls, id)
	for i, v := range s.order {
		if v == id {
			s.order = append(s.order[:i], s.order[i+1:]...)
			break
		}
	}
	c.ev.Event.Outcome = outcome
	if status != "" {
		c.ev.RPC.Status = status
		c.ev.Event.Reason = faultName(status)
	}
	s.emit(c)
}

func (s *Stream) emit(c *call) {
	if c.frags > 1 {
		c.ev.Original["Fragments"] = strconv.Itoa(c.frags)
	}
	s.conv.Emit(c.ev)
}

// returnValue renders a return value or fault status as "0x" and 8 hex
// digits in one allocation (none for 0, the common success).
func returnValue(v uint32) string {
	if v == 0 {
		return "0x00000000"
	}
	const digits = "0123456789abcdef"
	var b [10]byte
	b[0], b[1] = '0', 'x'
	for i := 9; i >= 2; i-- {
		b[i] = digits[v&0xf]
		v >>= 4
	}
	return string(b[:])
}

// statusName names the NTSTATUS errors common in RPC answers.
func statusName(v uint32) string {
	switch v {
	case 0xc0000022:
		return "access denied"
	case 0xc0000225:
		return "not found"
	case 0xc000006d:
		return "logon failure"
	case 0xc0000034:
		return "object name not found"
	case 0xc0000001:
		return "unsuccessful"
	case 0xc0000002:
		return "not implemented"
	case 0xc000000d:
		return "invalid parameter"
	}
	return ""
}

// faultName names common fault statuses (C706 appendix E, MS-RPCE 3.1.1.5.5).
func faultName(status string) string {
	switch status {
	case "0x00000005":
		return "access denied"
	case "0x1c010002":
		return "nca_s_op_rng_error"
	case "0x1c010003":
		return "nca_s_unk_if"
	case "0x1c00001a":
		return "nca_s_proto_error"
	case "0x000006d1":
		return "rpc_s_procnum_out_of_range"
	case "0x000006f7":
		return "rpc_x_bad_stub_data"
	case "0x1c000002":
		return "nca_s_fault_addr_error"
	}
	return ""
}
