package network

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"time"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// Dataset is event.dataset of every event the network sensor emits.
const Dataset = "netsensor"

// Transport is an IP protocol number the sensor understands.
type Transport uint8

// Transports.
const (
	TCP Transport = 6
	UDP Transport = 17
)

// String returns "tcp" or "udp".
func (t Transport) String() string {
	switch t {
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	}
	return strconv.Itoa(int(t))
}

// Flow names a conversation, oriented client → server.
type Flow struct {
	Transport Transport
	Client    netip.AddrPort
	Server    netip.AddrPort
}

// String renders "tcp 10.0.0.5:49152 > 10.0.0.1:88".
func (f Flow) String() string {
	return fmt.Sprintf("%s %s > %s", f.Transport, f.Client, f.Server)
}

// Direction is the direction of data within a conversation.
type Direction uint8

// Directions.
const (
	ToServer Direction = iota
	ToClient
)

// Port is a server port a dissector claims.
type Port struct {
	Transport Transport
	Number    uint16
}

// Dissector decodes one application protocol. Implementations are
// stateless and safe for concurrent use; per-conversation state lives in the
// Handler they create.
type Dissector interface {
	// Name is a short protocol name, e.g. "kerberos".
	Name() string
	// Ports lists the server ports the dissector claims.
	Ports() []Port
	// NewHandler returns the state machine of one conversation.
	NewHandler(c *Conv) Handler
}

// Sniffer is a Dissector that can also recognize its protocol by content
// on TCP ports no dissector claims (DCE/RPC on dynamic ports): Sniff sees
// the first payload of a segment and reports whether the conversation is
// its protocol. It must be cheap and strict: it runs on unclaimed traffic.
type Sniffer interface {
	Dissector
	Sniff(payload []byte) bool
}

// Handler decodes one conversation. Its methods are called from a single
// goroutine: Data and Gap any number of times, then Close exactly once.
// The byte slices passed to Data are only valid during the call.
type Handler interface {
	// Data delivers the next bytes of one direction: in order for TCP, one
	// datagram per call for UDP.
	Data(dir Direction, ts time.Time, b []byte)
	// Gap reports that bytes of dir were lost (capture drops, caps):
	// framing must resynchronize or give up on the direction.
	Gap(dir Direction)
	// Close ends the conversation: emit what is still pending (requests
	// without an answer, with outcome unknown) and release buffers.
	Close(ts time.Time)
}

// Registry maps server ports to dissectors. Build it once; lookups are safe
// for concurrent use.
type Registry struct {
	byPort map[Port]Dissector
	list   []Dissector
}

// NewRegistry registers dissectors by the ports they claim; two dissectors
// claiming one port is an error.
func NewRegistry(ds ...Dissector) (*Registry, error) {
	r := &Registry{byPort: map[Port]Dissector{}}
	for _, d := range ds {
		for _, p := range d.Ports() {
			if old, ok := r.byPort[p]; ok {
				return nil, fmt.Errorf("network: %s port %d claimed by %s and %s", p.Transport, p.Number, old.Name(), d.Name())
			}
			r.byPort[p] = d
		}
		r.list = append(r.list, d)
	}
	return r, nil
}

// Sniffers lists the registered dissectors that recognize TCP
// conversations by content, in registration order.
func (r *Registry) Sniffers() []Sniffer {
	var out []Sniffer
	for _, d := range r.list {
		if s, ok := d.(Sniffer); ok {
			out = append(out, s)
		}
	}
	return out
}

// Dissectors lists the registered dissectors in registration order.
func (r *Registry) Dissectors() []Dissector { return append([]Dissector(nil), r.list...) }

// Ports lists every claimed port, sorted (for BPF filters and docs).
func (r *Registry) Ports() []Port {
	out := make([]Port, 0, len(r.byPort))
	for p := range r.byPort {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Number != out[j].Number {
			return out[i].Number < out[j].Number
		}
		return out[i].Transport < out[j].Transport
	})
	return out
}

// Lookup finds the dissector for a packet from srcPort to dstPort. It
// prefers the destination port; serverIsDst tells which side is the server.
func (r *Registry) Lookup(t Transport, srcPort, dstPort uint16) (d Dissector, serverIsDst, ok bool) {
	if d, ok := r.byPort[Port{t, dstPort}]; ok {
		return d, true, true
	}
	if d, ok := r.byPort[Port{t, srcPort}]; ok {
		return d, false, true
	}
	return nil, false, false
}

// Counters are what dissectors count. All fields only grow.
type Counters struct {
	// Messages is the number of application messages decoded.
	Messages int64 `json:"messages"`
	// Malformed counts messages that could not be decoded.
	Malformed int64 `json:"malformed"`
	// Encrypted counts conversations (or their remainder) that are
	// encrypted (TLS, SASL sealing, SMB3 encryption) and not decoded.
	Encrypted int64 `json:"encrypted"`
	// DroppedBytes counts bytes discarded by framing caps and the budget.
	DroppedBytes int64 `json:"dropped_bytes"`
	// Events counts events emitted.
	Events int64 `json:"events"`
	// DNSQueries counts the DNS queries completed (answered, or ended
	// unanswered), whether or not the DNS event selection emitted them.
	DNSQueries int64 `json:"dns_queries"`
}

// Env is what all conversations of one capture share. It is used from one
// goroutine.
type Env struct {
	// Emit receives every event.
	Emit func(schema.Event)
	// Counters are updated by dissectors.
	Counters *Counters
	// Budget caps the bytes all Buffers hold together.
	Budget int64
	// buffered is what Buffers hold now.
	buffered int64
	// spare holds released Buffer arrays for reuse (see Buffer.release):
	// a message spanning many segments then costs no allocation.
	spare [][]byte
	// names are server host names learned from the traffic (NTLM
	// CHALLENGE target info), by address.
	names map[netip.Addr]string
	// addrs interns address strings (a capture sees few hosts, each in
	// many conversations); at most maxAddrs.
	addrs map[netip.Addr]string
}

// maxAddrs bounds the interned address strings.
const maxAddrs = 16384

// addrString renders a as events show it, interned.
func (e *Env) addrString(a netip.Addr) string {
	if s, ok := e.addrs[a]; ok {
		return s
	}
	s := addrString(a)
	if e.addrs == nil {
		e.addrs = map[netip.Addr]string{}
	}
	if len(e.addrs) < maxAddrs {
		e.addrs[a] = s
	}
	return s
}

// maxNames bounds the learned host names.
const maxNames = 4096

// NewEnv returns an Env emitting to emit with a total buffer budget.
func NewEnv(emit func(schema.Event), c *Counters, budget int64) *Env {
	if c == nil {
		c = &Counters{}
	}
	return &Env{Emit: emit, Counters: c, Budget: budget, names: map[netip.Addr]string{}}
}

// LearnName records the host name of a server address (first one wins).
func (e *Env) LearnName(a netip.Addr, name string) {
	if name == "" || len(e.names) >= maxNames {
		return
	}
	if _, ok := e.names[a]; !ok {
		e.names[a] = name
	}
}

// Name returns the learned host name of an address, or "".
func (e *Env) Name(a netip.Addr) string { return e.names[a] }

// Buffered returns the bytes all Buffers hold now.
func (e *Env) Buffered() int64 { return e.buffered }

// Conv is one conversation as a handler sees it.
type Conv struct {
	Flow Flow
	Env  *Env
	next int
	// clientIP, serverIP are Flow's addresses as events show them,
	// rendered by the first NewEvent.
	clientIP, serverIP string
}

// NewConv returns a conversation of flow in env.
func NewConv(flow Flow, env *Env) *Conv { return &Conv{Flow: flow, Env: env} }

// NextIndex returns the conversation's next message index (0, 1, 2, …).
func (c *Conv) NextIndex() int { i := c.next; c.next++; return i }

// Malformed counts one undecodable message.
func (c *Conv) Malformed() { c.Env.Counters.Malformed++ }

// Decoded counts one decoded message.
func (c *Conv) Decoded() { c.Env.Counters.Messages++ }

// Encrypted counts one conversation (or its remainder) not decoded because
// it is encrypted.
func (c *Conv) Encrypted() { c.Env.Counters.Encrypted++ }

// NewEvent returns an event of kind with the conversation's common fields:
// timestamp, source (client), destination (server), host (the server: its
// address and, when learned, name), dataset and a stable id built from the
// flow, ts, index and kind.
func (c *Conv) NewEvent(ts time.Time, index int, kind schema.EventKind) schema.Event {
	f := c.Flow
	ts = ts.UTC()
	if c.serverIP == "" {
		c.clientIP, c.serverIP = c.Env.addrString(f.Client.Addr()), c.Env.addrString(f.Server.Addr())
	}
	server := c.serverIP
	name := c.Env.Name(f.Server.Addr())
	ev := schema.Event{
		ID:          EventID(f, ts, index, kind),
		Timestamp:   ts,
		Event:       schema.EventMeta{Kind: kind, Dataset: Dataset, RecordID: strconv.Itoa(index)},
		Source:      schema.Endpoint{IP: c.clientIP, Port: int(f.Client.Port())},
		Destination: schema.Endpoint{IP: server, Port: int(f.Server.Port()), Hostname: name},
		Host:        schema.Host{IP: server, Name: name},
	}
	return ev
}

// Emit hands an event to the Env.
func (c *Conv) Emit(ev schema.Event) {
	c.Env.Counters.Events++
	if c.Env.Emit != nil {
		c.Env.Emit(ev)
	}
}

// EventID is the stable id of an event (see the package documentation).
//
// It is schema.StableID(Dataset, transport, client, server, ts in Unix
// nanoseconds, index, kind) computed in a stack buffer: one allocation
// (the id) instead of one per part.
func EventID(f Flow, ts time.Time, index int, kind schema.EventKind) string {
	var buf [256]byte
	b := append(buf[:0], Dataset...)
	b = append(append(b, 0), f.Transport.String()...)
	b = appendAddrPort(append(b, 0), f.Client)
	b = appendAddrPort(append(b, 0), f.Server)
	b = strconv.AppendInt(append(b, 0), ts.UnixNano(), 10)
	b = strconv.AppendInt(append(b, 0), int64(index), 10)
	b = append(append(b, 0), kind...)
	sum := sha256.Sum256(b)
	var id [32]byte
	hex.Encode(id[:], sum[:16])
	return string(id[:])
}

// appendAddrPort appends p as p.String() renders it.
func appendAddrPort(b []byte, p netip.AddrPort) []byte {
	if !p.Addr().IsValid() {
		return append(b, p.String()...)
	}
	return p.AppendTo(b)
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.Unmap().String()
}
