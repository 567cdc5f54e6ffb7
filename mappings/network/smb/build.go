package smb

import (
	"encoding/binary"
	"unicode/utf16"
)

// The Build functions encode SMB2 messages as MS-SMB2 section 2.2 lays
// them out. They exist for tests and for the network sensor's crafted
// sample captures; the dissector never uses them.

// Msg describes the header of a message to build.
type Msg struct {
	Command   uint16
	Response  bool
	Status    uint32
	MessageID uint64
	TreeID    uint32
	SessionID uint64
}

func (h Msg) header() []byte {
	b := make([]byte, HeaderLen)
	copy(b, "\xfeSMB")
	le := binary.LittleEndian
	le.PutUint16(b[4:], HeaderLen)
	le.PutUint16(b[6:], 1) // credit charge
	le.PutUint32(b[8:], h.Status)
	le.PutUint16(b[12:], h.Command)
	le.PutUint16(b[14:], 1) // credits
	if h.Response {
		le.PutUint32(b[16:], FlagResponse)
	}
	le.PutUint64(b[24:], h.MessageID)
	le.PutUint32(b[32:], 0xfeff) // process id
	le.PutUint32(b[36:], h.TreeID)
	le.PutUint64(b[40:], h.SessionID)
	return b
}

// NBSSRecord frames one SMB2 message (one or more commands, compounded
// with NextCommand when several) in an NBSS record.
func NBSSRecord(cmds ...[]byte) []byte {
	var m []byte
	for i, c := range cmds {
		if i < len(cmds)-1 {
			for len(c)%8 != 0 {
				c = append(c, 0)
			}
			binary.LittleEndian.PutUint32(c[20:], uint32(len(c)))
		}
		m = append(m, c...)
	}
	return append([]byte{0, byte(len(m) >> 16), byte(len(m) >> 8), byte(len(m))}, m...)
}

func utf16le(s string) []byte {
	var b []byte
	for _, r := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, r)
	}
	return b
}

// BuildTreeConnect encodes a TREE_CONNECT request for path (\\server\share).
func BuildTreeConnect(h Msg, path string) []byte {
	h.Command = CmdTreeConnect
	b := h.header()
	p := utf16le(path)
	body := make([]byte, 8)
	binary.LittleEndian.PutUint16(body, 9)
	binary.LittleEndian.PutUint16(body[4:], HeaderLen+8)
	binary.LittleEndian.PutUint16(body[6:], uint16(len(p)))
	return append(append(b, body...), p...)
}

// BuildTreeConnectResponse encodes a successful TREE_CONNECT response; the
// tree id is h.TreeID. pipe says the share is IPC$ (share type pipe).
func BuildTreeConnectResponse(h Msg, pipe bool) []byte {
	h.Command, h.Response = CmdTreeConnect, true
	body := make([]byte, 16)
	binary.LittleEndian.PutUint16(body, 16)
	body[2] = 1 // disk
	if pipe {
		body[2] = 2
	}
	binary.LittleEndian.PutUint32(body[12:], 0x001f01ff)
	return append(h.header(), body...)
}

// BuildCreate encodes a CREATE request opening name.
func BuildCreate(h Msg, name string) []byte {
	h.Command = CmdCreate
	n := utf16le(name)
	body := make([]byte, 56)
	le := binary.LittleEndian
	le.PutUint16(body, 57)
	le.PutUint32(body[4:], 2)           // impersonation
	le.PutUint32(body[24:], 0x0012019f) // desired access
	le.PutUint32(body[32:], 3)          // share read|write
	le.PutUint32(body[36:], 1)          // FILE_OPEN
	le.PutUint32(body[40:], 0x00400040) // non-directory, open no recall
	le.PutUint16(body[44:], HeaderLen+56)
	le.PutUint16(body[46:], uint16(len(n)))
	return append(append(h.header(), body...), n...)
}

// BuildCreateResponse encodes a CREATE response returning fid (or only
// the error body when h.Status is not success).
func BuildCreateResponse(h Msg, fid FileID) []byte {
	h.Command, h.Response = CmdCreate, true
	if h.Status != StatusSuccess {
		return append(h.header(), 9, 0, 0, 0, 0, 0, 0, 0, 0)
	}
	body := make([]byte, 88)
	binary.LittleEndian.PutUint16(body, 89)
	binary.LittleEndian.PutUint32(body[4:], 1)     // FILE_OPENED
	binary.LittleEndian.PutUint32(body[56:], 0x80) // normal
	copy(body[64:], fid[:])
	return append(h.header(), body...)
}

// BuildWrite encodes a WRITE request of data to fid.
func BuildWrite(h Msg, fid FileID, data []byte) []byte {
	h.Command = CmdWrite
	body := make([]byte, 48)
	le := binary.LittleEndian
	le.PutUint16(body, 49)
	le.PutUint16(body[2:], HeaderLen+48)
	le.PutUint32(body[4:], uint32(len(data)))
	copy(body[16:], fid[:])
	return append(append(h.header(), body...), data...)
}

// BuildWriteResponse encodes a WRITE response for n bytes.
func BuildWriteResponse(h Msg, n int) []byte {
	h.Command, h.Response = CmdWrite, true
	body := make([]byte, 16)
	binary.LittleEndian.PutUint16(body, 17)
	binary.LittleEndian.PutUint32(body[4:], uint32(n))
	return append(h.header(), body...)
}

// BuildRead encodes a READ request of up to n bytes from fid.
func BuildRead(h Msg, fid FileID, n int) []byte {
	h.Command = CmdRead
	body := make([]byte, 49)
	le := binary.LittleEndian
	le.PutUint16(body, 49)
	le.PutUint32(body[4:], uint32(n))
	copy(body[16:], fid[:])
	le.PutUint32(body[32:], 1) // minimum count
	return append(h.header(), body...)
}

// BuildReadResponse encodes a READ response carrying data.
func BuildReadResponse(h Msg, data []byte) []byte {
	h.Command, h.Response = CmdRead, true
	body := make([]byte, 16)
	binary.LittleEndian.PutUint16(body, 17)
	body[2] = HeaderLen + 16
	binary.LittleEndian.PutUint32(body[4:], uint32(len(data)))
	return append(append(h.header(), body...), data...)
}

// BuildIoctl encodes an IOCTL FSCTL_PIPE_TRANSCEIVE request writing in to
// fid.
func BuildIoctl(h Msg, fid FileID, in []byte) []byte {
	h.Command = CmdIoctl
	body := make([]byte, 56)
	le := binary.LittleEndian
	le.PutUint16(body, 57)
	le.PutUint32(body[4:], FsctlPipeTransceive)
	copy(body[8:], fid[:])
	le.PutUint32(body[24:], HeaderLen+56)
	le.PutUint32(body[28:], uint32(len(in)))
	le.PutUint32(body[44:], 4280) // max output response
	le.PutUint32(body[48:], 1)    // SMB2_0_IOCTL_IS_FSCTL
	return append(append(h.header(), body...), in...)
}

// BuildIoctlResponse encodes the response of a pipe transceive returning
// out.
func BuildIoctlResponse(h Msg, fid FileID, out []byte) []byte {
	h.Command, h.Response = CmdIoctl, true
	body := make([]byte, 48)
	le := binary.LittleEndian
	le.PutUint16(body, 49)
	le.PutUint32(body[4:], FsctlPipeTransceive)
	copy(body[8:], fid[:])
	le.PutUint32(body[24:], HeaderLen+48) // input offset (no input)
	le.PutUint32(body[32:], HeaderLen+48)
	le.PutUint32(body[36:], uint32(len(out)))
	return append(append(h.header(), body...), out...)
}

// BuildClose encodes a CLOSE request of fid.
func BuildClose(h Msg, fid FileID) []byte {
	h.Command = CmdClose
	body := make([]byte, 24)
	binary.LittleEndian.PutUint16(body, 24)
	copy(body[8:], fid[:])
	return append(h.header(), body...)
}

// BuildCloseResponse encodes a CLOSE response.
func BuildCloseResponse(h Msg) []byte {
	h.Command, h.Response = CmdClose, true
	body := make([]byte, 60)
	binary.LittleEndian.PutUint16(body, 60)
	return append(h.header(), body...)
}

// BuildSessionSetup encodes a SESSION_SETUP request carrying a security
// blob (an NTLMSSP or SPNEGO token).
func BuildSessionSetup(h Msg, blob []byte) []byte {
	h.Command = CmdSessionSetup
	body := make([]byte, 24)
	le := binary.LittleEndian
	le.PutUint16(body, 25)
	body[3] = 1 // signing enabled
	le.PutUint16(body[12:], HeaderLen+24)
	le.PutUint16(body[14:], uint16(len(blob)))
	return append(append(h.header(), body...), blob...)
}

// BuildSessionSetupResponse encodes a SESSION_SETUP response with blob.
func BuildSessionSetupResponse(h Msg, blob []byte) []byte {
	h.Command, h.Response = CmdSessionSetup, true
	body := make([]byte, 8)
	le := binary.LittleEndian
	le.PutUint16(body, 9)
	le.PutUint16(body[4:], HeaderLen+8)
	le.PutUint16(body[6:], uint16(len(blob)))
	return append(append(h.header(), body...), blob...)
}
