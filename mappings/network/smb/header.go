package smb

import (
	"encoding/binary"
	"errors"

	"github.com/castellan-itdr/castellan/mappings/network"
)

// HeaderLen is the SMB2 header (sync and async forms).
const HeaderLen = 64

// Commands (MS-SMB2 2.2.1).
const (
	CmdNegotiate      = 0x0000
	CmdSessionSetup   = 0x0001
	CmdLogoff         = 0x0002
	CmdTreeConnect    = 0x0003
	CmdTreeDisconnect = 0x0004
	CmdCreate         = 0x0005
	CmdClose          = 0x0006
	CmdRead           = 0x0008
	CmdWrite          = 0x0009
	CmdIoctl          = 0x000b
)

// Header flags.
const (
	FlagResponse = 0x00000001
	FlagAsync    = 0x00000002
	FlagRelated  = 0x00000004
	FlagSigned   = 0x00000008
)

// NTSTATUS values the dissector acts on.
const (
	StatusSuccess        = 0x00000000
	StatusPending        = 0x00000103
	StatusBufferOverflow = 0x80000005
)

// FsctlPipeTransceive is the IOCTL that writes a request to a pipe and
// reads its answer in one exchange (MS-FSCC 2.3.49).
const FsctlPipeTransceive = 0x0011c017

// ErrMalformed reports a message that is not SMB2.
var ErrMalformed = errors.New("smb: malformed message")

// Header is a decoded SMB2 header.
type Header struct {
	Command     uint16
	Status      uint32
	Flags       uint32
	NextCommand uint32
	MessageID   uint64
	AsyncID     uint64 // async form only
	TreeID      uint32 // sync form only
	SessionID   uint64
}

// Response reports a server → client message.
func (h *Header) Response() bool { return h.Flags&FlagResponse != 0 }

// ParseHeader decodes the SMB2 header at the start of b.
func ParseHeader(b []byte) (Header, error) {
	var h Header
	if len(b) < HeaderLen || string(b[:4]) != "\xfeSMB" || binary.LittleEndian.Uint16(b[4:]) != HeaderLen {
		return h, ErrMalformed
	}
	le := binary.LittleEndian
	h.Status = le.Uint32(b[8:])
	h.Command = le.Uint16(b[12:])
	h.Flags = le.Uint32(b[16:])
	h.NextCommand = le.Uint32(b[20:])
	h.MessageID = le.Uint64(b[24:])
	if h.Flags&FlagAsync != 0 {
		h.AsyncID = le.Uint64(b[32:])
	} else {
		h.TreeID = le.Uint32(b[36:])
	}
	h.SessionID = le.Uint64(b[40:])
	return h, nil
}

// NBSS frames NetBIOS session service records (RFC 1002): a type byte and
// a 24-bit length (direct TCP 445 uses the same framing with type 0). It
// is a network.FrameFunc.
func NBSS(b []byte) (int, error) {
	if len(b) < 4 {
		return 0, nil
	}
	switch b[0] {
	case 0x00, 0x81, 0x82, 0x83, 0x84, 0x85:
	default:
		return 0, network.ErrFraming
	}
	return 4 + (int(b[1])<<16 | int(b[2])<<8 | int(b[3])), nil
}

// Commands splits an SMB2 message into its compounded commands (walking
// NextCommand, at most 16), calling fn with each command's bytes from its
// header on. It reports false when a command is not SMB2. The header is
// passed by value so that it stays on the stack.
func Commands(m []byte, fn func(h Header, cmd []byte)) bool {
	for i := 0; i < 16 && len(m) >= HeaderLen; i++ {
		h, err := ParseHeader(m)
		if err != nil {
			return false
		}
		next := int(h.NextCommand)
		cur := m
		if next >= HeaderLen && next <= len(m) {
			cur = m[:next]
		}
		fn(h, cur)
		if next < HeaderLen || next >= len(m) {
			return true
		}
		m = m[next:]
	}
	return true
}

// slice returns m[off:off+n] when it lies within m.
func slice(m []byte, off, n int) ([]byte, bool) {
	if off < 0 || n < 0 || off > len(m) || n > len(m)-off {
		return nil, false
	}
	return m[off : off+n], true
}

// FileID is an SMB2 file handle (persistent and volatile parts).
type FileID [16]byte

func fileID(b []byte) (FileID, bool) {
	var f FileID
	if len(b) < 16 {
		return f, false
	}
	copy(f[:], b)
	return f, true
}
