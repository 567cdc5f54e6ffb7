package dns

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"time"

	"github.com/castellan-itdr/castellan/mappings/network"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// MaxMessage is the largest DNS message over TCP (16-bit length prefix).
const MaxMessage = 0xffff

// maxPending caps the unanswered queries remembered per conversation.
const maxPending = 64

// Events selects which queries become events. The zero value is
// EventsAll.
type Events uint8

// Event selections.
const (
	// EventsAll emits every query.
	EventsAll Events = iota
	// EventsTransfers emits zone transfers (AXFR, IXFR) only, answered or
	// not, whatever their outcome.
	EventsTransfers
	// EventsFailures emits zone transfers and the queries answered with
	// an RCODE other than NOERROR (unanswered queries are not failures).
	EventsFailures
)

// String returns "all", "transfers" or "failures".
func (e Events) String() string {
	switch e {
	case EventsAll:
		return "all"
	case EventsTransfers:
		return "transfers"
	case EventsFailures:
		return "failures"
	}
	return "Events(" + strconv.Itoa(int(e)) + ")"
}

// ParseEvents reads an event selection: "transfers", "failures" or "all".
func ParseEvents(s string) (Events, error) {
	for _, e := range []Events{EventsTransfers, EventsFailures, EventsAll} {
		if s == e.String() {
			return e, nil
		}
	}
	return 0, fmt.Errorf("%q is not one of transfers, failures, all", s)
}

// Dissector is the DNS dissector (UDP and TCP 53).
type Dissector struct {
	// Events selects the queries that become events (zero: all).
	Events Events
}

// New returns the DNS dissector emitting every query.
func New() Dissector { return Dissector{} }

// Name returns "dns".
func (Dissector) Name() string { return "dns" }

// Ports claims UDP and TCP 53.
func (Dissector) Ports() []network.Port {
	return []network.Port{{Transport: network.UDP, Number: 53}, {Transport: network.TCP, Number: 53}}
}

// NewHandler returns the state of one conversation.
func (d Dissector) NewHandler(c *network.Conv) network.Handler {
	h := &handler{conv: c, events: d.Events}
	h.pending = h.first[:0]
	if c.Flow.Transport == network.TCP {
		h.bufs[0], h.bufs[1] = c.NewBuffer(MaxMessage+2), c.NewBuffer(MaxMessage+2)
	}
	return h
}

// query is a query waiting for (the rest of) its answer. Its event is
// built only when it is emitted, and only if the selection keeps it.
type query struct {
	id        uint16
	ts        time.Time
	index     int
	name      string
	qtype     uint16
	qclass    uint16
	answered  bool
	rcode     int
	soas      int
	answers   int
	truncated bool
}

func (q *query) zoneTransfer() bool { return q.qtype == TypeAXFR || q.qtype == TypeIXFR }

type handler struct {
	conv   *network.Conv
	events Events
	bufs   [2]*network.Buffer // TCP only
	// pending are the unanswered queries, oldest first (at most
	// maxPending; a UDP conversation usually holds one).
	pending []query
	first   [1]query // pending's first array: no allocation for one query
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
	for i := range h.pending {
		h.emit(&h.pending[i])
	}
	h.pending = h.pending[:0]
	if h.bufs[0] != nil {
		h.bufs[0].Gap()
		h.bufs[1].Gap()
	}
}

// find returns the index of the pending query with id, or -1.
func (h *handler) find(id uint16) int {
	for i := range h.pending {
		if h.pending[i].id == id {
			return i
		}
	}
	return -1
}

func (h *handler) message(dir network.Direction, ts time.Time, b []byte) {
	// With transfers only, most names are not needed: questionName
	// reads the name of those that are.
	m, err := parse(b, h.events != EventsTransfers)
	if err == nil && h.events == EventsTransfers && m.QDCount > 0 && (m.QType == TypeAXFR || m.QType == TypeIXFR) {
		m.QName = questionName(b)
	}
	if err != nil || m.Response != (dir == network.ToClient) {
		h.conv.Malformed()
		return
	}
	h.conv.Decoded()
	if m.Opcode != 0 || m.QDCount == 0 && !m.Response {
		return // notify, update, status: not queries
	}
	if !m.Response {
		if i := h.find(m.ID); i >= 0 { // id reused before an answer
			h.finish(i)
		}
		q := h.query(ts, &m)
		if len(h.pending) >= maxPending {
			h.emit(&q)
			return
		}
		h.pending = append(h.pending, q)
		return
	}
	i := h.find(m.ID)
	if i < 0 {
		if m.QDCount == 0 {
			return // a later message of a zone transfer already emitted
		}
		// The query was not seen: the answer tells what was asked.
		q := h.query(ts, &m)
		q.answer(&m)
		h.emit(&q)
		return
	}
	q := &h.pending[i]
	q.answer(&m)
	switch {
	case !q.zoneTransfer() || h.bufs[0] == nil || m.RCode != 0:
		h.finish(i)
	case q.qtype == TypeAXFR && q.soas >= 2:
		h.finish(i)
	case q.qtype == TypeIXFR && q.answers == 1:
		h.finish(i) // only the SOA: the client is up to date
	}
}

// query records a query (or an answer whose query was not seen).
func (h *handler) query(ts time.Time, m *Message) query {
	return query{id: m.ID, ts: ts, index: h.conv.NextIndex(), name: m.QName, qtype: m.QType, qclass: m.QClass}
}

// answer folds a response message into its query.
func (q *query) answer(m *Message) {
	if !q.answered || m.RCode != 0 {
		q.rcode = m.RCode
	}
	q.answered = true
	q.soas += m.SOAs
	q.answers += min(m.ANCount, maxRecords)
	q.truncated = q.truncated || m.Truncated
}

// keep reports whether the selection emits q.
func (h *handler) keep(q *query) bool {
	switch h.events {
	case EventsTransfers:
		return q.zoneTransfer()
	case EventsFailures:
		return q.zoneTransfer() || q.answered && q.rcode != 0
	}
	return true
}

// finish emits the pending query at i and forgets it.
func (h *handler) finish(i int) {
	h.emit(&h.pending[i])
	h.pending = append(h.pending[:i], h.pending[i+1:]...)
}

// emit counts a completed query and, if the selection keeps it, emits
// its dns_query event.
func (h *handler) emit(q *query) {
	h.conv.Env.Counters.DNSQueries++
	if h.keep(q) {
		h.conv.Emit(h.event(q))
	}
}

// event builds the dns_query event of a query.
func (h *handler) event(q *query) schema.Event {
	ev := h.conv.NewEvent(q.ts, q.index, schema.KindDNSQuery)
	ev.Event.Action = "dns-query"
	ev.DNS.Question = schema.DNSQuestion{Name: q.name, Type: TypeName(q.qtype)}
	if q.zoneTransfer() {
		ev.DNS.ZoneTransfer = true
		ev.Event.Action = "zone-transfer"
	}
	ev.Original = map[string]string{"TransactionId": strconv.Itoa(int(q.id)), "Transport": h.conv.Flow.Transport.String()}
	if q.qclass != 1 {
		ev.Original["QueryClass"] = strconv.Itoa(int(q.qclass))
	}
	ev.Event.Outcome = schema.OutcomeUnknown
	if q.answered {
		ev.DNS.ResponseCode = RCodeName(q.rcode)
		ev.Event.Outcome = schema.OutcomeSuccess
		if q.rcode != 0 {
			ev.Event.Outcome = schema.OutcomeFailure
			ev.Event.Reason = ev.DNS.ResponseCode
		}
	}
	ev.DNS.AnswersCount = q.answers
	if q.truncated {
		ev.Original["Truncated"] = "true"
	}
	return ev
}
