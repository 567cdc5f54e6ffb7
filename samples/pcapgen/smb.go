package pcapgen

import (
	"encoding/binary"
	"net/netip"
)

// SMB2 commands (MS-SMB2 2.2.1).
const (
	smbNegotiate    = 0
	smbSessionSetup = 1
	smbTreeConnect  = 3
	smbCreate       = 5
	smbClose        = 6
	smbRead         = 8
	smbWrite        = 9
	smbIoctl        = 11
)

// NT status codes.
const (
	StatusSuccess          uint32 = 0
	StatusMoreProcessing   uint32 = 0xc0000016
	StatusLogonFailure     uint32 = 0xc000006d
	fsctlPipeTransceive    uint32 = 0x0011c017
	smbFlagServerToRedir   uint32 = 1
	smb2HeaderSize                = 64
	smbReadChunk                  = 64 << 10
	defaultSMBSessionIDSet        = 0x0000100000000000
)

// SMBSession is one SMB2 connection being written.
type SMBSession struct {
	c       *Conn
	msgID   uint64
	session uint64
	tree    uint32
	fid     uint64
}

// SMB dials server:445 (or whatever port server has) and writes the
// NEGOTIATE exchange.
func (w *Writer) SMB(client, server netip.AddrPort) *SMBSession {
	s := &SMBSession{c: w.Dial(client, server)}
	body := make([]byte, 36, 36+10)
	binary.LittleEndian.PutUint16(body[0:], 36)
	binary.LittleEndian.PutUint16(body[2:], 5) // dialects
	binary.LittleEndian.PutUint16(body[4:], 1) // signing enabled
	binary.LittleEndian.PutUint32(body[8:], 0x7f)
	copy(body[12:28], filler(16))
	for _, d := range []uint16{0x202, 0x210, 0x300, 0x302, 0x311} {
		body = binary.LittleEndian.AppendUint16(body, d)
	}
	resp := make([]byte, 64)
	binary.LittleEndian.PutUint16(resp[0:], 65)
	binary.LittleEndian.PutUint16(resp[2:], 1)
	binary.LittleEndian.PutUint16(resp[4:], 0x311)
	copy(resp[8:24], fillerBlock[64:80])
	binary.LittleEndian.PutUint32(resp[24:], 0x2f)
	binary.LittleEndian.PutUint32(resp[28:], 8<<20)
	binary.LittleEndian.PutUint32(resp[32:], 8<<20)
	binary.LittleEndian.PutUint32(resp[36:], 8<<20)
	tok := SPNEGOInit(nil)
	binary.LittleEndian.PutUint16(resp[56:], smb2HeaderSize+64)
	binary.LittleEndian.PutUint16(resp[58:], uint16(len(tok)))
	resp = append(resp, tok...)
	s.exchange(smbNegotiate, body, StatusSuccess, resp)
	return s
}

// header builds an SMB2 header.
func (s *SMBSession) header(cmd uint16, status uint32, resp bool) []byte {
	h := make([]byte, smb2HeaderSize)
	copy(h, "\xfeSMB")
	binary.LittleEndian.PutUint16(h[4:], 64)
	binary.LittleEndian.PutUint32(h[8:], status)
	binary.LittleEndian.PutUint16(h[12:], cmd)
	binary.LittleEndian.PutUint16(h[14:], 1)
	if resp {
		binary.LittleEndian.PutUint32(h[16:], smbFlagServerToRedir)
	}
	binary.LittleEndian.PutUint64(h[24:], s.msgID)
	binary.LittleEndian.PutUint32(h[36:], s.tree)
	binary.LittleEndian.PutUint64(h[40:], s.session)
	return h
}

func nbss(m []byte) []byte {
	return append([]byte{0, byte(len(m) >> 16), byte(len(m) >> 8), byte(len(m))}, m...)
}

// exchange writes one request and its response (status in the response
// header) and advances the message id.
func (s *SMBSession) exchange(cmd uint16, req []byte, status uint32, resp []byte) {
	s.c.Send(true, nbss(append(s.header(cmd, 0, false), req...)))
	s.c.Send(false, nbss(append(s.header(cmd, status, true), resp...)))
	s.msgID++
}

func sessionSetupReq(blob []byte) []byte {
	b := make([]byte, 24, 24+len(blob))
	binary.LittleEndian.PutUint16(b[0:], 25)
	b[3] = 1
	binary.LittleEndian.PutUint16(b[12:], smb2HeaderSize+24)
	binary.LittleEndian.PutUint16(b[14:], uint16(len(blob)))
	return append(b, blob...)
}

func sessionSetupResp(blob []byte) []byte {
	b := make([]byte, 8, 8+len(blob))
	binary.LittleEndian.PutUint16(b[0:], 9)
	binary.LittleEndian.PutUint16(b[4:], smb2HeaderSize+8)
	binary.LittleEndian.PutUint16(b[6:], uint16(len(blob)))
	return append(b, blob...)
}

// Login writes the two SESSION_SETUP rounds of NTLM authentication
// (NEGOTIATE/CHALLENGE, AUTHENTICATE/result) for domain\user from
// workstation; status is the final result (StatusSuccess or a failure).
func (s *SMBSession) Login(domain, user, workstation, server string, v1 bool, status uint32) {
	s.exchange(smbSessionSetup, sessionSetupReq(SPNEGOInit(NTLMNegotiate())), StatusMoreProcessing,
		sessionSetupResp(SPNEGOResp(1, NTLMChallenge(domain, server, "lab.test"))))
	s.session = defaultSMBSessionIDSet | uint64(s.c.client.Port())
	state := 0
	if status != StatusSuccess {
		state = 2
	}
	s.exchange(smbSessionSetup, sessionSetupReq(SPNEGOResp(-1, NTLMAuthenticate(domain, user, workstation, v1))), status,
		sessionSetupResp(SPNEGOResp(state, nil)))
}

// TreeConnect connects to a share path such as \\DC01\SYSVOL.
func (s *SMBSession) TreeConnect(path string) {
	p := utf16le(path)
	req := make([]byte, 8, 8+len(p))
	binary.LittleEndian.PutUint16(req[0:], 9)
	binary.LittleEndian.PutUint16(req[4:], smb2HeaderSize+8)
	binary.LittleEndian.PutUint16(req[6:], uint16(len(p)))
	req = append(req, p...)
	resp := make([]byte, 16)
	binary.LittleEndian.PutUint16(resp[0:], 16)
	resp[2] = 1
	if len(path) > 4 && path[len(path)-4:] == "IPC$" {
		resp[2] = 2
	}
	binary.LittleEndian.PutUint32(resp[12:], 0x1f01ff)
	s.exchange(smbTreeConnect, req, StatusSuccess, resp)
	s.tree++
}

// create opens name and returns its file id.
func (s *SMBSession) create(name string, size int) [16]byte {
	n := utf16le(name)
	req := make([]byte, 56, 56+len(n))
	binary.LittleEndian.PutUint16(req[0:], 57)
	binary.LittleEndian.PutUint32(req[4:], 2)         // impersonation
	binary.LittleEndian.PutUint32(req[24:], 0x12019f) // generic read/write
	binary.LittleEndian.PutUint32(req[32:], 7)
	binary.LittleEndian.PutUint32(req[36:], 1) // FILE_OPEN
	binary.LittleEndian.PutUint16(req[44:], smb2HeaderSize+56)
	binary.LittleEndian.PutUint16(req[46:], uint16(len(n)))
	req = append(req, n...)
	s.fid++
	var fid [16]byte
	binary.LittleEndian.PutUint64(fid[:], s.fid)
	binary.LittleEndian.PutUint64(fid[8:], s.fid^0xffffffff)
	resp := make([]byte, 88)
	binary.LittleEndian.PutUint16(resp[0:], 89)
	binary.LittleEndian.PutUint32(resp[4:], 1)
	binary.LittleEndian.PutUint64(resp[48:], uint64(size))
	binary.LittleEndian.PutUint64(resp[40:], uint64(size))
	binary.LittleEndian.PutUint32(resp[56:], 0x80)
	copy(resp[64:80], fid[:])
	s.exchange(smbCreate, req, StatusSuccess, resp)
	return fid
}

func (s *SMBSession) close(fid [16]byte) {
	req := make([]byte, 24)
	binary.LittleEndian.PutUint16(req[0:], 24)
	copy(req[8:], fid[:])
	resp := make([]byte, 60)
	binary.LittleEndian.PutUint16(resp[0:], 60)
	s.exchange(smbClose, req, StatusSuccess, resp)
}

func readReq(fid [16]byte, off uint64, n int) []byte {
	req := make([]byte, 49)
	binary.LittleEndian.PutUint16(req[0:], 49)
	req[2] = 0x50
	binary.LittleEndian.PutUint32(req[4:], uint32(n))
	binary.LittleEndian.PutUint64(req[8:], off)
	copy(req[16:32], fid[:])
	return req
}

func readResp(data []byte) []byte {
	resp := make([]byte, 16, 16+len(data))
	binary.LittleEndian.PutUint16(resp[0:], 17)
	resp[2] = smb2HeaderSize + 16
	binary.LittleEndian.PutUint32(resp[4:], uint32(len(data)))
	return append(resp, data...)
}

// ReadFile opens name, reads size bytes in 64 KiB chunks and closes it
// (Group Policy files from SYSVOL, the bulk of a DC's SMB traffic).
func (s *SMBSession) ReadFile(name string, size int) {
	fid := s.create(name, size)
	for off := 0; off < size; off += smbReadChunk {
		n := min(smbReadChunk, size-off)
		s.exchange(smbRead, readReq(fid, uint64(off), n), StatusSuccess, readResp(fillerBlock[off%(128<<10):][:n]))
	}
	s.close(fid)
}

// OpenPipe opens a named pipe (name without \PIPE\, e.g. "samr") on the
// connected IPC$ tree.
func (s *SMBSession) OpenPipe(name string) [16]byte { return s.create(name, 0) }

// PipeWrite writes data to a pipe with SMB2 WRITE.
func (s *SMBSession) PipeWrite(fid [16]byte, data []byte) {
	req := make([]byte, 48, 48+len(data))
	binary.LittleEndian.PutUint16(req[0:], 49)
	binary.LittleEndian.PutUint16(req[2:], smb2HeaderSize+48)
	binary.LittleEndian.PutUint32(req[4:], uint32(len(data)))
	copy(req[16:32], fid[:])
	req = append(req, data...)
	resp := make([]byte, 16)
	binary.LittleEndian.PutUint16(resp[0:], 17)
	binary.LittleEndian.PutUint32(resp[4:], uint32(len(data)))
	s.exchange(smbWrite, req, StatusSuccess, resp)
}

// PipeRead reads data (the server's answer) from a pipe with SMB2 READ.
func (s *SMBSession) PipeRead(fid [16]byte, data []byte) {
	s.exchange(smbRead, readReq(fid, 0, 4280), StatusSuccess, readResp(data))
}

// PipeTransceive sends req and receives resp in one IOCTL
// FSCTL_PIPE_TRANSCEIVE, as Windows does for RPC calls on a pipe.
func (s *SMBSession) PipeTransceive(fid [16]byte, req, resp []byte) {
	in := make([]byte, 56, 56+len(req))
	binary.LittleEndian.PutUint16(in[0:], 57)
	binary.LittleEndian.PutUint32(in[4:], fsctlPipeTransceive)
	copy(in[8:24], fid[:])
	binary.LittleEndian.PutUint32(in[24:], smb2HeaderSize+56)
	binary.LittleEndian.PutUint32(in[28:], uint32(len(req)))
	binary.LittleEndian.PutUint32(in[44:], 4280)
	binary.LittleEndian.PutUint32(in[48:], 1) // IS_FSCTL
	in = append(in, req...)
	out := make([]byte, 48, 48+len(resp))
	binary.LittleEndian.PutUint16(out[0:], 49)
	binary.LittleEndian.PutUint32(out[4:], fsctlPipeTransceive)
	copy(out[8:24], fid[:])
	binary.LittleEndian.PutUint32(out[24:], smb2HeaderSize+48)
	binary.LittleEndian.PutUint32(out[32:], smb2HeaderSize+48)
	binary.LittleEndian.PutUint32(out[36:], uint32(len(resp)))
	out = append(out, resp...)
	s.exchange(smbIoctl, in, StatusSuccess, out)
}

// Close closes the pipe or file handle fid.
func (s *SMBSession) ClosePipe(fid [16]byte) { s.close(fid) }

// End writes the TCP close.
func (s *SMBSession) End() { s.c.Close() }
