package netsensor

import (
	"cmp"
	"encoding/binary"
	"net/netip"
	"slices"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/tcpassembly"

	"github.com/castellan-itdr/castellan/mappings/network"
	"github.com/castellan-itdr/castellan/mappings/network/dcerpc"
	"github.com/castellan-itdr/castellan/mappings/network/dns"
	"github.com/castellan-itdr/castellan/mappings/network/kerberos"
	"github.com/castellan-itdr/castellan/mappings/network/ldap"
	"github.com/castellan-itdr/castellan/mappings/network/ntlm"
	"github.com/castellan-itdr/castellan/mappings/network/smb"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// DefaultRegistry returns the dissectors the sensor runs by default:
// Kerberos (88), LDAP (389, 3268; 636 and 3269 counted as TLS), SMB2 (445,
// 139: NTLM session setups and DCE/RPC over named pipes), HTTP (80, 5985,
// 8080) for NTLM, DCE/RPC over TCP (135, and any port whose first bytes are
// a bind) and DNS (UDP and TCP 53). New protocols add one line here.
func DefaultRegistry() *network.Registry { return defaultRegistry(dns.EventsAll) }

// defaultRegistry is DefaultRegistry with the DNS event selection dnsEvents.
func defaultRegistry(dnsEvents dns.Events) *network.Registry {
	r, err := network.NewRegistry(kerberos.New(), ldap.New(), smb.New(), ntlm.NewHTTP(), dcerpc.New(), dns.Dissector{Events: dnsEvents})
	if err != nil {
		panic(err) // the built-in set is static: a clash is a programming error
	}
	return r
}

// Options tune decoding and bound its memory. Zero values take defaults.
type Options struct {
	// Registry chooses dissectors by port; nil means DefaultRegistry with
	// DNSEvents.
	Registry *network.Registry
	// DNSEvents selects the DNS queries that become events when Registry
	// is nil (zero: every query; the source's configuration defaults to
	// zone transfers only). Every query is counted in
	// Stats.Dissect.DNSQueries either way.
	DNSEvents dns.Events
	// MaxStreamBytes caps what one direction of a TCP connection may
	// hold while a message is incomplete (default 1 MiB; dissectors also
	// cap their messages).
	MaxStreamBytes int
	// MaxBufferedBytes caps what all connections hold together: the
	// reassembler's out-of-order pages plus the dissectors' buffers
	// (default 64 MiB).
	MaxBufferedBytes int64
	// StreamTimeout closes conversations idle for this long, in capture
	// time (default 2 minutes).
	StreamTimeout time.Duration
	// MaxConversations caps the open conversations; the oldest is closed
	// to admit a new one (default 65536).
	MaxConversations int
	// Skip, when > 0, processes packets only from this index on (0-based
	// count of packets in the file): resuming after a checkpoint.
	Skip int64
}

func (o Options) withDefaults() Options {
	if o.Registry == nil {
		o.Registry = defaultRegistry(o.DNSEvents)
	}
	if o.MaxStreamBytes <= 0 {
		o.MaxStreamBytes = 1 << 20
	}
	if o.MaxBufferedBytes <= 0 {
		o.MaxBufferedBytes = 64 << 20
	}
	if o.StreamTimeout <= 0 {
		o.StreamTimeout = 2 * time.Minute
	}
	if o.MaxConversations <= 0 {
		o.MaxConversations = 65536
	}
	return o
}

// Stats counts what a read did. All fields only grow.
type Stats struct {
	// Packets and Bytes read from the capture (captured lengths).
	Packets int64 `json:"packets"`
	Bytes   int64 `json:"bytes"`
	// Truncated packets were captured shorter than they were on the wire.
	Truncated int64 `json:"truncated"`
	// Undecodable packets had a broken or unsupported link or IP header.
	Undecodable int64 `json:"undecodable"`
	// Fragments are IP fragments (not reassembled; Kerberos over UDP can
	// fragment — rare with TCP preferred).
	Fragments int64 `json:"fragments"`
	// Ignored packets were on no port a dissector claims.
	Ignored int64 `json:"ignored"`
	// Sniffed counts server endpoints on unclaimed TCP ports recognized by
	// content (DCE/RPC binds on dynamic ports); SniffedEvicted those
	// forgotten to stay within maxSniffed.
	Sniffed        int64 `json:"sniffed"`
	SniffedEvicted int64 `json:"sniffed_evicted,omitempty"`
	// Skipped capture records (oversized or bad pcapng blocks).
	Skipped int64 `json:"skipped"`
	// Conversations opened, by transport, and closed for being idle or to
	// make room.
	TCPConversations int64 `json:"tcp_conversations"`
	UDPConversations int64 `json:"udp_conversations"`
	Timeouts         int64 `json:"timeouts"`
	Evicted          int64 `json:"evicted"`
	// Panics recovered in dissectors (the conversation is abandoned).
	Panics int64 `json:"panics"`
	// Dissect holds the dissectors' counters.
	Dissect network.Counters `json:"dissect"`
	// EventsByKind counts events emitted per kind.
	EventsByKind map[schema.EventKind]int64 `json:"events_by_kind"`
	// Damage is the problem that ended the read early, if any ("" when
	// the capture was read to its end).
	Damage string `json:"damage,omitempty"`
}

// connKey names a conversation: transport and client, server endpoints.
type connKey struct {
	t              network.Transport
	client, server netip.AddrPort
}

// conn is one conversation.
type conn struct {
	key     connKey
	conv    *network.Conv
	handler network.Handler
	first   time.Time
	last    time.Time
	halves  int     // TCP halves still open
	started [2]bool // TCP halves the reassembler has seen start, by direction
	closed  bool    // Close called
	dead    bool    // a panic abandoned it
	seq     int64
	// conv and halves are allocated with the conn.
	convMem network.Conv
	halfMem [2]half
}

// engine decodes packets into events. It is used from one goroutine.
type engine struct {
	opts  Options
	reg   *network.Registry
	env   *network.Env
	stats *Stats
	emit  func(schema.Event)

	asm   *tcpassembly.Assembler
	conns map[connKey]*conn
	// sniffers recognize TCP conversations on unclaimed ports by content;
	// sniffed remembers the server endpoints they recognized (at most
	// maxSniffed, oldest forgotten first).
	sniffers     []network.Sniffer
	sniffed      map[netip.AddrPort]network.Dissector
	sniffedOrder []netip.AddrPort
	nseq         int64
	now          time.Time
	flush        time.Time // capture time of the last timeout sweep
	// curSrc, curDst are the endpoints of the TCP packet being assembled
	// (read by New).
	curSrc, curDst netip.AddrPort
	// flushing defers closes caused by the reassembler's flushes (which
	// visit streams in map order) so they happen in a stable order.
	flushing bool
	deferred []*conn

	eth   layers.Ethernet
	dot1q layers.Dot1Q
	ip4   layers.IPv4
	ip6   layers.IPv6
	tcp   layers.TCP
}

// sweepEvery is how often (capture time) idle conversations are closed.
const sweepEvery = 10 * time.Second

// maxSniffed caps the server endpoints recognized by content.
const maxSniffed = 4096

func newEngine(o Options, stats *Stats, emit func(schema.Event)) *engine {
	o = o.withDefaults()
	if stats.EventsByKind == nil {
		stats.EventsByKind = map[schema.EventKind]int64{}
	}
	e := &engine{opts: o, reg: o.Registry, stats: stats, conns: map[connKey]*conn{},
		sniffers: o.Registry.Sniffers(), sniffed: map[netip.AddrPort]network.Dissector{}}
	e.emit = func(ev schema.Event) {
		stats.EventsByKind[ev.Event.Kind]++
		emit(ev)
	}
	e.env = network.NewEnv(e.emit, &stats.Dissect, o.MaxBufferedBytes/2)
	pool := tcpassembly.NewStreamPool(e)
	e.asm = tcpassembly.NewAssembler(pool)
	const page = 1900
	e.asm.MaxBufferedPagesPerConnection = max(1, o.MaxStreamBytes/page)
	e.asm.MaxBufferedPagesTotal = max(1, int(o.MaxBufferedBytes/2/page))
	return e
}

// packet decodes one captured packet.
func (e *engine) packet(data []byte, info packetInfo) {
	e.stats.Packets++
	e.stats.Bytes += int64(len(data))
	if info.origlen > info.caplen {
		e.stats.Truncated++
	}
	if info.ts.After(e.now) {
		e.now = info.ts
	}
	if e.flush.IsZero() {
		e.flush = e.now
	} else if e.now.Sub(e.flush) >= sweepEvery {
		e.sweep(e.now.Add(-e.opts.StreamTimeout))
		e.flush = e.now
	}
	var etype layers.EthernetType
	var payload []byte
	switch info.linkType {
	case layers.LinkTypeEthernet:
		if err := e.eth.DecodeFromBytes(data, gopacket.NilDecodeFeedback); err != nil {
			e.stats.Undecodable++
			return
		}
		etype, payload = e.eth.EthernetType, e.eth.Payload
		for i := 0; i < 4 && (etype == layers.EthernetTypeDot1Q || etype == layers.EthernetTypeQinQ); i++ {
			if err := e.dot1q.DecodeFromBytes(payload, gopacket.NilDecodeFeedback); err != nil {
				e.stats.Undecodable++
				return
			}
			etype, payload = e.dot1q.Type, e.dot1q.Payload
		}
	case layers.LinkTypeLinuxSLL:
		if len(data) < 16 {
			e.stats.Undecodable++
			return
		}
		etype, payload = layers.EthernetType(binary.BigEndian.Uint16(data[14:])), data[16:]
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		if len(data) < 4 {
			e.stats.Undecodable++
			return
		}
		etype, payload = ipVersion(data[4:]), data[4:]
	case layers.LinkTypeRaw, 12, 14, layers.LinkTypeIPv4, layers.LinkTypeIPv6:
		etype, payload = ipVersion(data), data
	default:
		e.stats.Undecodable++
		return
	}
	var src, dst netip.Addr
	var proto layers.IPProtocol
	switch etype {
	case layers.EthernetTypeIPv4:
		if err := e.ip4.DecodeFromBytes(payload, gopacket.NilDecodeFeedback); err != nil {
			e.stats.Undecodable++
			return
		}
		if e.ip4.Flags&layers.IPv4MoreFragments != 0 || e.ip4.FragOffset != 0 {
			e.stats.Fragments++
			return
		}
		src, _ = netip.AddrFromSlice(e.ip4.SrcIP)
		dst, _ = netip.AddrFromSlice(e.ip4.DstIP)
		proto, payload = e.ip4.Protocol, e.ip4.Payload
	case layers.EthernetTypeIPv6:
		if err := e.ip6.DecodeFromBytes(payload, gopacket.NilDecodeFeedback); err != nil {
			e.stats.Undecodable++
			return
		}
		src, _ = netip.AddrFromSlice(e.ip6.SrcIP)
		dst, _ = netip.AddrFromSlice(e.ip6.DstIP)
		proto, payload = e.ip6.NextHeader, e.ip6.Payload
		for i := 0; i < 8; i++ { // extension headers
			switch proto {
			case layers.IPProtocolIPv6HopByHop, layers.IPProtocolIPv6Routing, layers.IPProtocolIPv6Destination:
				if len(payload) < 8 {
					e.stats.Undecodable++
					return
				}
				n := (int(payload[1]) + 1) * 8
				if n > len(payload) {
					e.stats.Undecodable++
					return
				}
				proto, payload = layers.IPProtocol(payload[0]), payload[n:]
				continue
			case layers.IPProtocolIPv6Fragment:
				e.stats.Fragments++
				return
			}
			break
		}
	default:
		e.stats.Ignored++
		return
	}
	switch proto {
	case layers.IPProtocolTCP:
		if len(payload) < 4 {
			e.stats.Undecodable++
			return
		}
		sp, dp := binary.BigEndian.Uint16(payload), binary.BigEndian.Uint16(payload[2:])
		srcAP, dstAP := netip.AddrPortFrom(src.Unmap(), sp), netip.AddrPortFrom(dst.Unmap(), dp)
		_, serverIsDst, ok := e.reg.Lookup(network.TCP, sp, dp)
		byContent := !ok // a conversation on unclaimed ports, recognized by content
		if !ok {
			if _, serverIsDst, ok = e.lookupSniffed(srcAP, dstAP); !ok {
				if !e.sniff(srcAP, dstAP, payload) {
					e.stats.Ignored++
					return
				}
				serverIsDst = true
			}
		}
		if err := e.tcp.DecodeFromBytes(payload, gopacket.NilDecodeFeedback); err != nil {
			e.stats.Undecodable++
			return
		}
		var flow gopacket.Flow
		if etype == layers.EthernetTypeIPv4 {
			flow = e.ip4.NetworkFlow()
		} else {
			flow = e.ip6.NetworkFlow()
		}
		e.curSrc, e.curDst = srcAP, dstAP
		if byContent && !e.tcp.SYN && len(e.tcp.Payload) > 0 {
			e.startHalf(flow, srcAP, dstAP, serverIsDst, info.ts)
		}
		e.asm.AssembleWithTimestamp(flow, &e.tcp, info.ts)
	case layers.IPProtocolUDP:
		if len(payload) < 8 {
			e.stats.Undecodable++
			return
		}
		sp, dp := binary.BigEndian.Uint16(payload), binary.BigEndian.Uint16(payload[2:])
		d, serverIsDst, ok := e.reg.Lookup(network.UDP, sp, dp)
		if !ok {
			e.stats.Ignored++
			return
		}
		l := int(binary.BigEndian.Uint16(payload[4:]))
		body := payload[8:]
		if l >= 8 && l-8 < len(body) {
			body = body[:l-8]
		}
		a, b := netip.AddrPortFrom(src.Unmap(), sp), netip.AddrPortFrom(dst.Unmap(), dp)
		key, dir := connKey{network.UDP, a, b}, network.ToServer
		if !serverIsDst {
			key, dir = connKey{network.UDP, b, a}, network.ToClient
		}
		c := e.conns[key]
		if c == nil {
			c = e.open(key, d, info.ts)
			e.stats.UDPConversations++
		}
		c.last = info.ts
		e.safe(c, func() { c.handler.Data(dir, info.ts, body) })
	default:
		e.stats.Ignored++
	}
}

// lookupTCP finds the dissector of a TCP packet from src to dst: by the
// ports dissectors claim, then by the server endpoints recognized by
// content.
func (e *engine) lookupTCP(src, dst netip.AddrPort) (network.Dissector, bool, bool) {
	if d, serverIsDst, ok := e.reg.Lookup(network.TCP, src.Port(), dst.Port()); ok {
		return d, serverIsDst, true
	}
	return e.lookupSniffed(src, dst)
}

// lookupSniffed finds a server endpoint recognized by content.
func (e *engine) lookupSniffed(src, dst netip.AddrPort) (network.Dissector, bool, bool) {
	if len(e.sniffed) == 0 {
		return nil, false, false
	}
	if d, ok := e.sniffed[dst]; ok {
		return d, true, true
	}
	if d, ok := e.sniffed[src]; ok {
		return d, false, true
	}
	return nil, false, false
}

// sniff offers the payload of a TCP packet on unclaimed ports to the
// content-recognizing dissectors; a match makes dst a known server
// endpoint of that protocol.
func (e *engine) sniff(src, dst netip.AddrPort, tcp []byte) bool {
	if len(e.sniffers) == 0 || len(tcp) < 20 {
		return false
	}
	off := int(tcp[12]>>4) * 4
	if off < 20 || off >= len(tcp) {
		return false
	}
	body := tcp[off:]
	for _, s := range e.sniffers {
		if !s.Sniff(body) {
			continue
		}
		if len(e.sniffedOrder) >= maxSniffed {
			delete(e.sniffed, e.sniffedOrder[0])
			e.sniffedOrder = e.sniffedOrder[1:]
			e.stats.SniffedEvicted++
		}
		e.sniffed[dst] = s
		e.sniffedOrder = append(e.sniffedOrder, dst)
		e.stats.Sniffed++
		return true
	}
	return false
}

// startHalf makes the reassembler start the half src → dst of a
// conversation recognized by content mid-stream: its SYN went by before
// the conversation was known, so a SYN just before the current segment is
// simulated (otherwise the reassembler would hold the data until a flush).
func (e *engine) startHalf(flow gopacket.Flow, src, dst netip.AddrPort, serverIsDst bool, ts time.Time) {
	key, dir := connKey{network.TCP, src, dst}, network.ToServer
	if !serverIsDst {
		key, dir = connKey{network.TCP, dst, src}, network.ToClient
	}
	if c := e.conns[key]; c != nil && c.started[dir] {
		return
	}
	syn := e.tcp
	syn.SYN, syn.ACK, syn.FIN, syn.RST, syn.PSH = true, false, false, false, false
	syn.Seq--
	syn.Payload = nil
	e.asm.AssembleWithTimestamp(flow, &syn, ts)
}

func ipVersion(b []byte) layers.EthernetType {
	if len(b) > 0 && b[0]>>4 == 6 {
		return layers.EthernetTypeIPv6
	}
	return layers.EthernetTypeIPv4
}

// open creates a conversation, evicting the least recently active one when
// at the cap.
func (e *engine) open(key connKey, d network.Dissector, ts time.Time) *conn {
	if len(e.conns) >= e.opts.MaxConversations {
		var oldest *conn
		for _, c := range e.conns {
			if oldest == nil || c.last.Before(oldest.last) || c.last.Equal(oldest.last) && c.seq < oldest.seq {
				oldest = c
			}
		}
		e.stats.Evicted++
		e.close(oldest, e.now)
	}
	e.nseq++
	c := &conn{key: key, first: ts, last: ts, seq: e.nseq,
		convMem: network.Conv{Flow: network.Flow{Transport: key.t, Client: key.client, Server: key.server}, Env: e.env}}
	conv := &c.convMem
	c.conv = conv
	e.safe(c, func() { c.handler = d.NewHandler(conv) })
	e.conns[key] = c
	return c
}

// close ends a conversation once.
func (e *engine) close(c *conn, ts time.Time) {
	if c.closed {
		return
	}
	c.closed = true
	delete(e.conns, c.key)
	if c.handler != nil {
		e.safe(c, func() { c.handler.Close(ts) })
	}
}

// safe runs a handler call, abandoning the conversation on a panic.
func (e *engine) safe(c *conn, f func()) {
	if c.dead {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			c.dead = true
			e.stats.Panics++
			e.stats.Dissect.Malformed++
		}
	}()
	f()
}

// sweep closes conversations idle since before t, oldest first.
func (e *engine) sweep(t time.Time) {
	// Deliver what the reassembler holds for idle streams; it closes its
	// side of them (our halves are closed in ReassemblyComplete).
	e.flushing = true
	e.asm.FlushWithOptions(tcpassembly.FlushOptions{T: t, CloseAll: true})
	e.flushing = false
	idle := e.deferred
	e.deferred = nil
	for _, c := range e.conns {
		if c.last.Before(t) && !slices.Contains(idle, c) {
			idle = append(idle, c)
		}
	}
	sortConns(idle)
	for _, c := range idle {
		if !c.closed {
			e.stats.Timeouts++
		}
		e.close(c, c.last)
	}
}

func sortConns(cs []*conn) {
	slices.SortFunc(cs, func(a, b *conn) int { return cmp.Compare(a.seq, b.seq) })
}

// finish flushes everything at the end of the input, in a deterministic
// order (conversation creation order).
func (e *engine) finish() {
	e.flushing = true
	e.asm.FlushWithOptions(tcpassembly.FlushOptions{T: e.now.Add(time.Hour), CloseAll: true})
	e.flushing = false
	e.deferred = nil
	all := make([]*conn, 0, len(e.conns))
	for _, c := range e.conns {
		all = append(all, c)
	}
	sortConns(all)
	for _, c := range all {
		e.close(c, e.now)
	}
}

// New implements tcpassembly.StreamFactory: one half (direction) of a TCP
// connection. The packet being assembled is the one that opened it.
func (e *engine) New(_, _ gopacket.Flow) tcpassembly.Stream {
	src, dst := e.curSrc, e.curDst
	d, serverIsDst, ok := e.lookupTCP(src, dst)
	if !ok {
		return discard{}
	}
	key, dir := connKey{network.TCP, src, dst}, network.ToServer
	if !serverIsDst {
		key, dir = connKey{network.TCP, dst, src}, network.ToClient
	}
	c := e.conns[key]
	if c == nil || c.halves >= 2 {
		if c != nil { // port reuse: a new connection on the same tuple
			e.close(c, e.now)
		}
		c = e.open(key, d, e.now)
		e.stats.TCPConversations++
	}
	c.halves++
	if c.started[dir] { // a second stream for one direction (rare)
		return &half{e: e, c: c, dir: dir}
	}
	c.started[dir] = true
	h := &c.halfMem[dir]
	*h = half{e: e, c: c, dir: dir}
	return h
}

// half is one direction of a TCP conversation.
type half struct {
	e    *engine
	c    *conn
	dir  network.Direction
	done bool
}

func (h *half) Reassembled(rs []tcpassembly.Reassembly) {
	c := h.c
	if c.closed {
		return
	}
	for i := range rs {
		r := &rs[i]
		if r.Skip != 0 {
			if r.Skip > 0 {
				h.e.stats.Dissect.DroppedBytes += int64(r.Skip)
			}
			h.e.safe(c, func() { c.handler.Gap(h.dir) })
		}
		if len(r.Bytes) > 0 {
			c.last = r.Seen
			h.e.safe(c, func() { c.handler.Data(h.dir, r.Seen, r.Bytes) })
		}
	}
}

func (h *half) ReassemblyComplete() {
	if h.done {
		return
	}
	h.done = true
	h.c.halves--
	if h.c.halves <= 0 {
		if h.e.flushing {
			h.e.deferred = append(h.e.deferred, h.c)
			return
		}
		h.e.close(h.c, h.c.last)
	}
}

type discard struct{}

func (discard) Reassembled([]tcpassembly.Reassembly) {}
func (discard) ReassemblyComplete()                  {}
