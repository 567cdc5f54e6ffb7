package dns

import (
	"encoding/binary"
	"strconv"
	"time"

	"github.com/castellan-itdr/castellan/mappings/network"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// MaxMessage is the largest DNS message over TCP (16-bit length prefix).
const MaxMessage = 0xffff

// maxPending caps the unanswered queries remembered per conversation.
const maxPending = 64

// Dissector is the DNS dissector (UDP and TCP 53).
type Dissector struct{}

// New returns the DNS dissector.
func New() Dissector { return Dissector{} }

// Name returns "dns".
func (Dissector) Name() string { return "dns" }

// Ports claims UDP and TCP 53.
func (Dissector) Ports() []network.Port {
	return []network.Port{{Transport: network.UDP, Number: 53}, {Transport: network.TCP, Number: 53}}
}

// NewHandler returns the state of one conversation.
func (Dissector) NewHandler(c *network.Conv) network.Handler {
	h := &handler{conv: c, pending: map[uint16]*query{}}
	if c.Flow.Transport == network.TCP {
		h.bufs[0], h.bufs[1] = c.NewBuffer(MaxMessage+2), c.NewBuffer(MaxMessage+2)
	}
	return h
}

type query struct {
	ev       schema.Event
	answered bool
	soas     int
}

type handler struct {
	conv    *network.Conv
	bufs    [2]*network.Buffer // TCP only
	pending map[uint16]*query
	order   []uint16
}

// frame reads the 2-byte length prefix of DNS over TCP (RFC 1035 4.2.2).
func frame(b []byte) (int, error) {
	if len(b) < 2 {
		return 0, nil
	}
	n := int(binary.BigEndian.Uint16(b))
	if n < HeaderLen {
		return 0, network.ErrFraming
	}
	return 2 + n, nil
}

func (h *handler) Data(dir network.Direction, ts time.Time, b []byte) {
	if h.bufs[dir] == nil {
		h.message(dir, ts, b)
		return
	}
	h.bufs[dir].Feed(b, frame, func(m []byte) { h.message(dir, ts, m[2:]) })
}

func (h *handler) Gap(dir network.Direction) {
	if h.bufs[dir] != nil {
		h.bufs[dir].Gap()
	}
}

func (h *handler) Close(time.Time) {
	for _, id := range h.order {
		if q, ok := h.pending[id]; ok {
			h.conv.Emit(q.ev)
		}
	}
	h.pending, h.order = map[uint16]*query{}, nil
	if h.bufs[0] != nil {
		h.bufs[0].Gap()
		h.bufs[1].Gap()
	}
}

func (h *handler) message(dir network.Direction, ts time.Time, b []byte) {
	m, err := Parse(b)
	if err != nil || m.Response != (dir == network.ToClient) {
		h.conv.Malformed()
		return
	}
	h.conv.Decoded()
	if m.Opcode != 0 || m.QDCount == 0 && !m.Response {
		return // notify, update, status: not queries
	}
	if !m.Response {
		if old, ok := h.pending[m.ID]; ok { // id reused before an answer
			h.finish(m.ID, old)
		}
		q := &query{ev: h.event(ts, &m)}
		if len(h.pending) >= maxPending {
			h.conv.Emit(q.ev)
			return
		}
		h.pending[m.ID] = q
		h.order = append(h.order, m.ID)
		return
	}
	q, ok := h.pending[m.ID]
	if !ok {
		if m.QDCount == 0 {
			return // a later message of a zone transfer already emitted
		}
		// The query was not seen: the answer tells what was asked.
		q = &query{ev: h.event(ts, &m)}
		h.answer(q, &m)
		h.conv.Emit(q.ev)
		return
	}
	h.answer(q, &m)
	zt := q.ev.DNS.ZoneTransfer
	switch {
	case !zt || h.bufs[0] == nil || m.RCode != 0:
		h.finish(m.ID, q)
	case q.ev.DNS.Question.Type == "AXFR" && q.soas >= 2:
		h.finish(m.ID, q)
	case q.ev.DNS.Question.Type == "IXFR" && q.ev.DNS.AnswersCount == 1:
		h.finish(m.ID, q) // only the SOA: the client is up to date
	}
}

// event builds the dns_query event of a query (or of an answer whose
// query was not seen).
func (h *handler) event(ts time.Time, m *Message) schema.Event {
	ev := h.conv.NewEvent(ts, h.conv.NextIndex(), schema.KindDNSQuery)
	ev.Event.Action = "dns-query"
	ev.Event.Outcome = schema.OutcomeUnknown
	ev.DNS.Question = schema.DNSQuestion{Name: network.Text([]byte(m.QName)), Type: TypeName(m.QType)}
	if m.QType == TypeAXFR || m.QType == TypeIXFR {
		ev.DNS.ZoneTransfer = true
		ev.Event.Action = "zone-transfer"
	}
	ev.Original = map[string]string{"TransactionId": strconv.Itoa(int(m.ID)), "Transport": h.conv.Flow.Transport.String()}
	if m.QClass != 1 && m.QDCount > 0 {
		ev.Original["QueryClass"] = strconv.Itoa(int(m.QClass))
	}
	return ev
}

// answer folds a response message into its query's event.
func (h *handler) answer(q *query, m *Message) {
	if !q.answered || m.RCode != 0 {
		q.ev.DNS.ResponseCode = RCodeName(m.RCode)
		q.ev.Event.Outcome = schema.OutcomeSuccess
		if m.RCode != 0 {
			q.ev.Event.Outcome = schema.OutcomeFailure
			q.ev.Event.Reason = q.ev.DNS.ResponseCode
		}
	}
	q.answered = true
	q.soas += m.SOAs
	q.ev.DNS.AnswersCount += min(m.ANCount, maxRecords)
	if m.Truncated {
		q.ev.Original["Truncated"] = "true"
	}
}

func (h *handler) finish(id uint16, q *query) {
	delete(h.pending, id)
	for i, v := range h.order {
		if v == id {
			h.order = append(h.order[:i], h.order[i+1:]...)
			break
		}
	}
	h.conv.Emit(q.ev)
}
