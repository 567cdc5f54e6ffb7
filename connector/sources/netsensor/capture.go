package netsensor

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/gopacket/layers"
)

// MaxPacket caps the captured length of one packet. Longer records in a
// pcap file end the read (the stream cannot be trusted past them); in a
// pcapng file the block is skipped and counted.
const MaxPacket = 256 << 10

// maxBlock caps a pcapng block's length (non-packet blocks are skipped
// without being held in memory).
const maxBlock = 64 << 20

// Capture magics.
const (
	magicPcapMicro   = 0xa1b2c3d4
	magicPcapNano    = 0xa1b23c4d
	magicPcapngBlock = 0x0a0d0d0a
	magicPcapngBOM   = 0x1a2b3c4d
)

// ErrNotCapture reports a file that is neither pcap nor pcapng.
var ErrNotCapture = errors.New("netsensor: not a pcap or pcapng capture")

// ErrDamaged wraps problems that end the read of a damaged capture early.
var ErrDamaged = errors.New("netsensor: damaged capture")

// IsCapture reports whether head (the first bytes of a file, at least 4)
// starts a pcap file (either byte order, microsecond or nanosecond
// timestamps) or a pcapng file.
func IsCapture(head []byte) bool {
	if len(head) < 4 {
		return false
	}
	le, be := binary.LittleEndian.Uint32(head), binary.BigEndian.Uint32(head)
	switch {
	case le == magicPcapMicro || be == magicPcapMicro, le == magicPcapNano || be == magicPcapNano:
		return true
	case be == magicPcapngBlock:
		return true
	}
	return false
}

// packetInfo describes one captured packet.
type packetInfo struct {
	ts       time.Time
	caplen   int
	origlen  int
	linkType layers.LinkType
}

// packetSource yields packets; data is valid until the next call. A
// non-EOF error ends the read.
type packetSource interface {
	next() ([]byte, packetInfo, error)
	// skipped counts records skipped but recoverable (oversized pcapng
	// blocks, unknown interfaces).
	skipped() int64
}

// newPacketSource detects the format and reads the file header.
func newPacketSource(r io.Reader) (packetSource, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(4)
	if err != nil || !IsCapture(head) {
		return nil, ErrNotCapture
	}
	if binary.BigEndian.Uint32(head) == magicPcapngBlock {
		return &ngSource{r: br}, nil
	}
	return newPcapSource(br)
}

// pcapSource reads classic pcap.
type pcapSource struct {
	r     *bufio.Reader
	order binary.ByteOrder
	nano  bool
	link  layers.LinkType
	hdr   [16]byte
	buf   []byte
}

func newPcapSource(r *bufio.Reader) (*pcapSource, error) {
	var h [24]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, fmt.Errorf("%w: pcap header: %v", ErrDamaged, err)
	}
	s := &pcapSource{r: r}
	switch magic := binary.LittleEndian.Uint32(h[:]); magic {
	case magicPcapMicro, magicPcapNano:
		s.order, s.nano = binary.LittleEndian, magic == magicPcapNano
	default:
		s.order = binary.BigEndian
		s.nano = binary.BigEndian.Uint32(h[:]) == magicPcapNano
	}
	s.link = layers.LinkType(s.order.Uint32(h[20:]) & 0xffff)
	return s, nil
}

func (s *pcapSource) skipped() int64 { return 0 }

func (s *pcapSource) next() ([]byte, packetInfo, error) {
	if _, err := io.ReadFull(s.r, s.hdr[:]); err != nil {
		if err == io.EOF {
			return nil, packetInfo{}, io.EOF
		}
		return nil, packetInfo{}, fmt.Errorf("%w: record header: %v", ErrDamaged, err)
	}
	sec := int64(s.order.Uint32(s.hdr[0:]))
	frac := int64(s.order.Uint32(s.hdr[4:]))
	caplen := int(s.order.Uint32(s.hdr[8:]))
	orig := int(s.order.Uint32(s.hdr[12:]))
	if caplen > MaxPacket || caplen < 0 {
		return nil, packetInfo{}, fmt.Errorf("%w: record of %d bytes", ErrDamaged, caplen)
	}
	if !s.nano {
		frac *= 1000
	}
	s.buf = grow(s.buf, caplen)
	if _, err := io.ReadFull(s.r, s.buf); err != nil {
		return nil, packetInfo{}, fmt.Errorf("%w: truncated record: %v", ErrDamaged, err)
	}
	return s.buf, packetInfo{ts: time.Unix(sec, frac).UTC(), caplen: caplen, origlen: orig, linkType: s.link}, nil
}

func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n, max(n, 2048))
	}
	return b[:n]
}

// ngInterface is a pcapng interface description.
type ngInterface struct {
	link    layers.LinkType
	snaplen int
	// timestamp units: divide (pow10 >= 0) or shift (pow2 >= 0)
	pow10, pow2 int
	offset      int64
}

// ngSource reads pcapng, section by section.
type ngSource struct {
	r      *bufio.Reader
	order  binary.ByteOrder
	ifaces []ngInterface
	buf    []byte
	skips  int64
}

func (s *ngSource) skipped() int64 { return s.skips }

const maxInterfaces = 1024

func (s *ngSource) next() ([]byte, packetInfo, error) {
	for {
		var h [8]byte
		if _, err := io.ReadFull(s.r, h[:]); err != nil {
			if err == io.EOF {
				return nil, packetInfo{}, io.EOF
			}
			return nil, packetInfo{}, fmt.Errorf("%w: block header: %v", ErrDamaged, err)
		}
		typ := binary.BigEndian.Uint32(h[:])
		if typ == magicPcapngBlock {
			bom, err := s.r.Peek(4)
			if err != nil {
				return nil, packetInfo{}, fmt.Errorf("%w: section header: %v", ErrDamaged, err)
			}
			switch {
			case binary.BigEndian.Uint32(bom) == magicPcapngBOM:
				s.order = binary.BigEndian
			case binary.LittleEndian.Uint32(bom) == magicPcapngBOM:
				s.order = binary.LittleEndian
			default:
				return nil, packetInfo{}, fmt.Errorf("%w: bad byte-order magic", ErrDamaged)
			}
			s.ifaces = s.ifaces[:0]
		} else if s.order == nil {
			return nil, packetInfo{}, fmt.Errorf("%w: block before section header", ErrDamaged)
		} else {
			typ = s.order.Uint32(h[:])
		}
		blen := int64(s.order.Uint32(h[4:]))
		if blen < 12 || blen%4 != 0 || blen > maxBlock {
			return nil, packetInfo{}, fmt.Errorf("%w: block length %d", ErrDamaged, blen)
		}
		body := int(blen - 12) // without type, length and trailing length
		switch typ {
		case magicPcapngBlock:
			if err := s.discard(body + 4); err != nil {
				return nil, packetInfo{}, err
			}
		case 1: // interface description
			if body > MaxPacket {
				if err := s.discard(body + 4); err != nil {
					return nil, packetInfo{}, err
				}
				s.skips++
				continue
			}
			if err := s.read(body + 4); err != nil {
				return nil, packetInfo{}, err
			}
			s.addInterface(s.buf[:body])
		case 6, 2, 3: // enhanced, obsolete and simple packet blocks
			if body > MaxPacket+32+64<<10 {
				if err := s.discard(body + 4); err != nil {
					return nil, packetInfo{}, err
				}
				s.skips++
				continue
			}
			if err := s.read(body + 4); err != nil {
				return nil, packetInfo{}, err
			}
			data, info, ok := s.packet(typ, s.buf[:body])
			if !ok {
				s.skips++
				continue
			}
			return data, info, nil
		default:
			if err := s.discard(body + 4); err != nil {
				return nil, packetInfo{}, err
			}
		}
	}
}

func (s *ngSource) read(n int) error {
	s.buf = grow(s.buf, n)
	if _, err := io.ReadFull(s.r, s.buf); err != nil {
		return fmt.Errorf("%w: truncated block: %v", ErrDamaged, err)
	}
	return nil
}

func (s *ngSource) discard(n int) error {
	if _, err := s.r.Discard(n); err != nil {
		return fmt.Errorf("%w: truncated block: %v", ErrDamaged, err)
	}
	return nil
}

func (s *ngSource) addInterface(b []byte) {
	if len(b) < 8 || len(s.ifaces) >= maxInterfaces {
		s.skips++
		return
	}
	ifc := ngInterface{link: layers.LinkType(s.order.Uint16(b)), snaplen: int(s.order.Uint32(b[4:])), pow10: 6, pow2: -1}
	opts := b[8:]
	for len(opts) >= 4 {
		code, l := s.order.Uint16(opts), int(s.order.Uint16(opts[2:]))
		if code == 0 || 4+l > len(opts) {
			break
		}
		v := opts[4 : 4+l]
		switch {
		case code == 9 && l >= 1: // if_tsresol
			if v[0]&0x80 != 0 {
				ifc.pow10, ifc.pow2 = -1, int(v[0]&0x7f)
				if ifc.pow2 > 40 {
					ifc.pow10, ifc.pow2 = 6, -1
				}
			} else {
				ifc.pow10 = int(v[0])
				if ifc.pow10 > 18 {
					ifc.pow10 = 6
				}
			}
		case code == 14 && l >= 8: // if_tsoffset
			ifc.offset = int64(s.order.Uint64(v))
		}
		opts = opts[4+(l+3)&^3:]
	}
	s.ifaces = append(s.ifaces, ifc)
}

// packet decodes a packet block body.
func (s *ngSource) packet(typ uint32, b []byte) ([]byte, packetInfo, bool) {
	var iface, caplen, orig int
	var ts uint64
	var data []byte
	switch typ {
	case 6:
		if len(b) < 20 {
			return nil, packetInfo{}, false
		}
		iface = int(s.order.Uint32(b))
		ts = uint64(s.order.Uint32(b[4:]))<<32 | uint64(s.order.Uint32(b[8:]))
		caplen, orig = int(s.order.Uint32(b[12:])), int(s.order.Uint32(b[16:]))
		data = b[20:]
	case 2:
		if len(b) < 20 {
			return nil, packetInfo{}, false
		}
		iface = int(s.order.Uint16(b))
		ts = uint64(s.order.Uint32(b[4:]))<<32 | uint64(s.order.Uint32(b[8:]))
		caplen, orig = int(s.order.Uint32(b[12:])), int(s.order.Uint32(b[16:]))
		data = b[20:]
	case 3:
		if len(b) < 4 {
			return nil, packetInfo{}, false
		}
		orig = int(s.order.Uint32(b))
		data = b[4:]
		caplen = min(orig, len(data))
		if len(s.ifaces) > 0 && s.ifaces[0].snaplen > 0 {
			caplen = min(caplen, s.ifaces[0].snaplen)
		}
	}
	if iface < 0 || iface >= len(s.ifaces) || caplen < 0 || caplen > len(data) || caplen > MaxPacket {
		return nil, packetInfo{}, false
	}
	ifc := s.ifaces[iface]
	return data[:caplen], packetInfo{ts: ifc.time(ts), caplen: caplen, origlen: orig, linkType: ifc.link}, true
}

func (ifc ngInterface) time(v uint64) time.Time {
	var sec, nsec int64
	if ifc.pow2 >= 0 {
		sec = int64(v >> ifc.pow2)
		rem := v & (1<<ifc.pow2 - 1)
		nsec = int64(float64(rem) / float64(uint64(1)<<ifc.pow2) * 1e9)
	} else {
		div := uint64(1)
		for range ifc.pow10 {
			div *= 10
		}
		sec = int64(v / div)
		rem := v % div
		if ifc.pow10 <= 9 {
			mul := uint64(1)
			for range 9 - ifc.pow10 {
				mul *= 10
			}
			nsec = int64(rem * mul)
		} else {
			d := uint64(1)
			for range ifc.pow10 - 9 {
				d *= 10
			}
			nsec = int64(rem / d)
		}
	}
	return time.Unix(sec+ifc.offset, nsec).UTC()
}
