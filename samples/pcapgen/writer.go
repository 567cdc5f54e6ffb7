package pcapgen

import (
	"bufio"
	"encoding/binary"
	"io"
	"net/netip"
	"time"
)

// MSS is the TCP payload carried per segment.
const MSS = 1460

// snaplen is the capture length written in the file header.
const snaplen = 65535

// Writer writes a classic pcap file (microsecond timestamps, Ethernet
// link type). It is not safe for concurrent use.
type Writer struct {
	w     *bufio.Writer
	buf   []byte
	bytes int64
	pkts  int64
	err   error
	// Now is the capture clock: each packet is stamped with it and the
	// clock then advances by Step.
	Now  time.Time
	Step time.Duration
}

// NewWriter writes the pcap file header to w and returns a Writer whose
// clock starts at start.
func NewWriter(w io.Writer, start time.Time) *Writer {
	pw := &Writer{w: bufio.NewWriterSize(w, 1<<20), buf: make([]byte, 0, 2048), Now: start, Step: 50 * time.Microsecond}
	var h [24]byte
	binary.LittleEndian.PutUint32(h[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], snaplen)
	binary.LittleEndian.PutUint32(h[20:], 1) // LINKTYPE_ETHERNET
	pw.write(h[:])
	return pw
}

// Bytes is the file size written so far; Packets the packets written.
func (w *Writer) Bytes() int64   { return w.bytes }
func (w *Writer) Packets() int64 { return w.pkts }

// Flush writes buffered data and returns the first error met.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	w.err = w.w.Flush()
	return w.err
}

func (w *Writer) write(b []byte) {
	if w.err != nil {
		return
	}
	n, err := w.w.Write(b)
	w.bytes += int64(n)
	w.err = err
}

// Advance moves the capture clock forward by d.
func (w *Writer) Advance(d time.Duration) { w.Now = w.Now.Add(d) }

const (
	protoTCP = 6
	protoUDP = 17
)

// TCP flags.
const (
	flagFIN = 0x01
	flagSYN = 0x02
	flagPSH = 0x08
	flagACK = 0x10
)

// packet writes one Ethernet/IPv4 packet with a TCP or UDP header.
func (w *Writer) packet(proto byte, src, dst netip.AddrPort, seq, ack uint32, flags byte, payload []byte) {
	l4 := 8
	if proto == protoTCP {
		l4 = 20
	}
	total := 14 + 20 + l4 + len(payload)
	b := w.buf[:0]
	// Pcap record header.
	ts := w.Now
	w.Now = w.Now.Add(w.Step)
	b = binary.LittleEndian.AppendUint32(b, uint32(ts.Unix()))
	b = binary.LittleEndian.AppendUint32(b, uint32(ts.Nanosecond()/1000))
	b = binary.LittleEndian.AppendUint32(b, uint32(total))
	b = binary.LittleEndian.AppendUint32(b, uint32(total))
	// Ethernet: locally administered MACs derived from the addresses.
	s4, d4 := src.Addr().As4(), dst.Addr().As4()
	b = append(b, 0x02, 0x00, d4[0], d4[1], d4[2], d4[3], 0x02, 0x00, s4[0], s4[1], s4[2], s4[3], 0x08, 0x00)
	// IPv4.
	ip := len(b)
	b = append(b, 0x45, 0, byte((total-14)>>8), byte(total-14), byte(w.pkts>>8), byte(w.pkts), 0x40, 0, 64, proto, 0, 0)
	b = append(b, s4[:]...)
	b = append(b, d4[:]...)
	binary.BigEndian.PutUint16(b[ip+10:], ipChecksum(b[ip:ip+20]))
	// Transport.
	b = binary.BigEndian.AppendUint16(b, src.Port())
	b = binary.BigEndian.AppendUint16(b, dst.Port())
	if proto == protoTCP {
		b = binary.BigEndian.AppendUint32(b, seq)
		b = binary.BigEndian.AppendUint32(b, ack)
		b = append(b, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0) // checksum not computed (offload style)
	} else {
		b = binary.BigEndian.AppendUint16(b, uint16(8+len(payload)))
		b = append(b, 0, 0) // no checksum
	}
	b = append(b, payload...)
	w.buf = b
	w.write(b)
	w.pkts++
}

func ipChecksum(h []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(h); i += 2 {
		s += uint32(h[i])<<8 | uint32(h[i+1])
	}
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// UDP writes one datagram.
func (w *Writer) UDP(src, dst netip.AddrPort, payload []byte) {
	w.packet(protoUDP, src, dst, 0, 0, 0, payload)
}

// Exchange writes a UDP request and its answer.
func (w *Writer) Exchange(client, server netip.AddrPort, req, resp []byte) {
	w.UDP(client, server, req)
	if resp != nil {
		w.UDP(server, client, resp)
	}
}

// Conn is one TCP connection being written.
type Conn struct {
	w              *Writer
	client, server netip.AddrPort
	cseq, sseq     uint32
}

// Dial writes a TCP handshake from client to server and returns the
// connection.
func (w *Writer) Dial(client, server netip.AddrPort) *Conn {
	c := &Conn{w: w, client: client, server: server, cseq: uint32(client.Port()) * 7919, sseq: uint32(server.Port())*104729 + uint32(client.Port())}
	w.packet(protoTCP, client, server, c.cseq, 0, flagSYN, nil)
	c.cseq++
	w.packet(protoTCP, server, client, c.sseq, c.cseq, flagSYN|flagACK, nil)
	c.sseq++
	w.packet(protoTCP, client, server, c.cseq, c.sseq, flagACK, nil)
	return c
}

// Send writes data from the client (toServer) or the server in MSS-sized
// segments, the last one pushed.
func (c *Conn) Send(toServer bool, data []byte) {
	src, dst, seq, ack := c.client, c.server, &c.cseq, &c.sseq
	if !toServer {
		src, dst, seq, ack = c.server, c.client, &c.sseq, &c.cseq
	}
	for len(data) > 0 {
		n := min(len(data), MSS)
		flags := byte(flagACK)
		if n == len(data) {
			flags |= flagPSH
		}
		c.w.packet(protoTCP, src, dst, *seq, *ack, flags, data[:n])
		*seq += uint32(n)
		data = data[n:]
	}
}

// Request writes a client message and the server's answer (nil: none).
func (c *Conn) Request(req, resp []byte) {
	c.Send(true, req)
	if resp != nil {
		c.Send(false, resp)
	}
}

// Close writes the FIN exchange.
func (c *Conn) Close() {
	c.w.packet(protoTCP, c.client, c.server, c.cseq, c.sseq, flagFIN|flagACK, nil)
	c.cseq++
	c.w.packet(protoTCP, c.server, c.client, c.sseq, c.cseq, flagFIN|flagACK, nil)
	c.sseq++
	c.w.packet(protoTCP, c.client, c.server, c.cseq, c.sseq, flagACK, nil)
}
