package kerberos

import (
	"encoding/binary"
	"strconv"
	"strings"
	"time"

	"github.com/castellan-itdr/castellan/mappings/network"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// MaxMessage caps a Kerberos message over TCP; longer records are skipped.
const MaxMessage = 64 << 10

// maxPending caps the requests remembered per conversation.
const maxPending = 16

// Dissector is the Kerberos dissector (TCP and UDP port 88).
type Dissector struct{}

// New returns the Kerberos dissector.
func New() Dissector { return Dissector{} }

// Name returns "kerberos".
func (Dissector) Name() string { return "kerberos" }

// Ports claims TCP and UDP 88.
func (Dissector) Ports() []network.Port {
	return []network.Port{{Transport: network.TCP, Number: 88}, {Transport: network.UDP, Number: 88}}
}

// NewHandler returns the state of one conversation.
func (Dissector) NewHandler(c *network.Conv) network.Handler {
	h := &handler{conv: c}
	if c.Flow.Transport == network.TCP {
		h.bufs[network.ToServer] = c.NewBuffer(MaxMessage + 4)
		h.bufs[network.ToClient] = c.NewBuffer(MaxMessage + 4)
	}
	return h
}

type request struct {
	msg   Message
	ts    time.Time
	index int
}

type handler struct {
	conv    *network.Conv
	bufs    [2]*network.Buffer
	pending []request
}

// frame reads the 4-byte record mark of Kerberos over TCP (RFC 4120 7.2.2).
func frame(b []byte) (int, error) {
	if len(b) < 4 {
		return 0, nil
	}
	n := binary.BigEndian.Uint32(b)
	if n&0x80000000 != 0 || n == 0 {
		return 0, network.ErrFraming
	}
	if n > 1<<30 {
		return 0, network.ErrFraming
	}
	return int(n) + 4, nil
}

func (h *handler) Data(dir network.Direction, ts time.Time, b []byte) {
	if h.bufs[dir] == nil {
		h.message(ts, b)
		return
	}
	h.bufs[dir].Feed(b, frame, func(m []byte) { h.message(ts, m[4:]) })
}

func (h *handler) Gap(dir network.Direction) {
	if h.bufs[dir] != nil {
		h.bufs[dir].Gap()
	}
}

func (h *handler) Close(ts time.Time) {
	for _, r := range h.pending {
		h.emit(r, nil, ts)
	}
	h.pending = nil
}

func (h *handler) message(ts time.Time, b []byte) {
	m, err := Parse(b)
	if err != nil {
		h.conv.Malformed()
		return
	}
	h.conv.Decoded()
	switch m.Type {
	case MsgASReq, MsgTGSReq:
		if len(h.pending) >= maxPending {
			old := h.pending[0]
			h.pending = h.pending[1:]
			h.emit(old, nil, ts)
		}
		h.pending = append(h.pending, request{msg: m, ts: ts, index: h.conv.NextIndex()})
	case MsgASRep, MsgTGSRep, MsgKRBError:
		want := MsgASReq
		if m.Type == MsgTGSRep {
			want = MsgTGSReq
		}
		for i, r := range h.pending {
			if m.Type == MsgKRBError || r.msg.Type == want {
				h.pending = append(h.pending[:i], h.pending[i+1:]...)
				h.emit(r, &m, ts)
				return
			}
		}
		// An answer without its request (capture started late).
		req := Message{Type: MsgASReq}
		if m.Type == MsgTGSRep {
			req.Type = MsgTGSReq
		}
		h.emit(request{msg: req, ts: ts, index: h.conv.NextIndex()}, &m, ts)
	}
}

// smallHex holds hexCode of 0..255 (etypes, error codes): no allocation
// per event for them.
var smallHex = func() (t [256]string) {
	for i := range t {
		t[i] = "0x" + strconv.FormatUint(uint64(i), 16)
	}
	return t
}()

// hexCode renders v as "0x…" (lower case, no leading zeros).
func hexCode(v uint32) string {
	if v < uint32(len(smallHex)) {
		return smallHex[v]
	}
	var buf [10]byte
	return string(strconv.AppendUint(append(buf[:0], "0x"...), uint64(v), 16))
}

// joinInts renders v as "18,17,23" in one allocation.
func joinInts(v []int32) string {
	var buf [128]byte
	b := buf[:0]
	for i, x := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(x), 10)
	}
	return string(b)
}

func has(v []int32, x int32) bool {
	for _, y := range v {
		if y == x {
			return true
		}
	}
	return false
}

// preauthType names the pre-authentication an AS-REQ carried: "2" for
// PA-ENC-TIMESTAMP, the PKINIT or FAST encrypted-challenge type, else "0".
func preauthType(pa []int32) string {
	for _, t := range []int32{PAEncTimestamp, PAPKASReq, PAPKASReqOld, PAEncChallenge, PAFXFast} {
		if has(pa, t) {
			return strconv.Itoa(int(t))
		}
	}
	return "0"
}

// emit builds the event of an exchange: req answered by rep (nil when no
// answer was seen).
func (h *handler) emit(r request, rep *Message, ts time.Time) {
	req := &r.msg
	tgs := req.Type == MsgTGSReq || (rep != nil && rep.Type == MsgTGSRep)
	kind := schema.KindKerberosTGT
	action := "tgt-requested"
	if tgs {
		kind, action = schema.KindKerberosServiceTicket, "service-ticket-requested"
	}
	if rep != nil && rep.Type == MsgKRBError && rep.ErrorCode == ErrPreauthFailed && !tgs {
		kind, action = schema.KindKerberosPreauthFail, "preauth-failed"
	}
	when := r.ts
	if rep != nil {
		when = ts
	}
	ev := h.conv.NewEvent(when, r.index, kind)
	ev.Event.Action = action
	ev.Auth.Protocol = "kerberos"
	// Presized for every key an exchange can set: no growth.
	o := make(map[string]string, 20)
	o["RequestType"] = MessageName(req.Type)
	ev.Original = o

	cname, crealm, sname, srealm := req.CName, req.CRealm, req.SName, req.SRealm
	if rep != nil {
		o["MessageType"] = rep.Name()
		ev.Event.Code = rep.Name()
		if rep.CName != "" {
			cname = rep.CName
		}
		if rep.CRealm != "" {
			crealm = rep.CRealm
		}
		if sname == "" || rep.Type == MsgKRBError && rep.SName != "" && req.SName == "" {
			sname, srealm = rep.SName, rep.SRealm
		}
	} else {
		ev.Event.Code = req.Name()
	}
	if cname != "" {
		ev.User = schema.User{Name: cname, Domain: crealm, IsMachine: strings.HasSuffix(cname, "$")}
		o["TargetUserName"] = cname
		o["TargetDomainName"] = crealm
	}
	if sname != "" {
		ev.Target.Service = sname
		ev.Target.IsMachine = strings.HasSuffix(sname, "$")
		o["ServiceName"] = sname
		if srealm != "" {
			o["ServiceRealm"] = srealm
		}
	}
	ev.Source.Hostname = ""
	o["IpAddress"] = ev.Source.IP
	o["IpPort"] = strconv.Itoa(ev.Source.Port)
	if req.HasOptions {
		ev.Auth.Kerberos.TicketOptions = hexCode(req.KDCOptions)
		o["TicketOptions"] = ev.Auth.Kerberos.TicketOptions
	}
	if len(req.Etypes) > 0 {
		o["RequestedEtypes"] = joinInts(req.Etypes)
	}
	if len(req.PATypes) > 0 {
		o["PaDataTypes"] = joinInts(req.PATypes)
	}
	if req.Type == MsgASReq && (req.CName != "" || req.HasOptions) {
		ev.Auth.Kerberos.PreauthType = preauthType(req.PATypes)
		o["PreAuthType"] = ev.Auth.Kerberos.PreauthType
	}
	if req.PACRequest {
		o["PacRequest"] = strconv.FormatBool(req.IncludePAC)
	}
	switch {
	case rep == nil:
		ev.Event.Outcome = schema.OutcomeUnknown
	case rep.Type == MsgKRBError:
		ev.Event.Outcome = schema.OutcomeFailure
		code := hexCode(uint32(rep.ErrorCode))
		ev.Auth.Kerberos.Status = code
		ev.Auth.FailureCode = code
		o["Status"] = code
		if n, ok := errorNames[rep.ErrorCode]; ok {
			o["StatusName"] = n[0]
			ev.Event.Reason = n[1]
		}
		if rep.EText != "" {
			o["ErrorText"] = rep.EText
		}
	default:
		ev.Event.Outcome = schema.OutcomeSuccess
		ev.Auth.Kerberos.Status = "0x0"
		o["Status"] = "0x0"
		// The etype an attacker cracks: the service ticket's for TGS
		// (Kerberoasting), the reply's enc-part (the client key) for AS
		// (AS-REP roasting).
		et := rep.EncPartEtype
		if tgs {
			et = rep.TicketEtype
		}
		ev.Auth.Kerberos.Etype = EtypeName(et)
		o["TicketEncryptionType"] = hexCode(uint32(et))
		o["TicketEtype"] = strconv.Itoa(int(rep.TicketEtype))
		o["EncPartEtype"] = strconv.Itoa(int(rep.EncPartEtype))
		if ev.Auth.Kerberos.Etype == "" && et != 0 {
			ev.Auth.Kerberos.Etype = "etype-" + strconv.Itoa(int(et))
		}
	}
	h.conv.Emit(ev)
}
