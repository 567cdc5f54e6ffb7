package smb

import (
	"encoding/binary"
	"strings"
	"time"

	"github.com/castellan-itdr/castellan/mappings/network"
	"github.com/castellan-itdr/castellan/mappings/network/dcerpc"
	"github.com/castellan-itdr/castellan/mappings/network/ntlm"
)

// MaxMessage caps an NBSS record held for decoding; larger records (bulk
// file READ/WRITE data) are skipped and counted. Pipe traffic is far
// smaller: RPC fragments are at most 64 KiB and usually 4280 bytes.
const MaxMessage = 256 << 10

const (
	maxTrees   = 256 // trees remembered per connection
	maxPipes   = 64  // open pipes per connection
	maxPending = 256 // outstanding TREE_CONNECT/CREATE/READ/IOCTL requests per connection
)

// Dissector is the SMB2 dissector (TCP 445 and 139).
type Dissector struct{}

// New returns the SMB2 dissector.
func New() Dissector { return Dissector{} }

// Name returns "smb".
func (Dissector) Name() string { return "smb" }

// Ports claims TCP 445 and 139.
func (Dissector) Ports() []network.Port {
	return []network.Port{{Transport: network.TCP, Number: 445}, {Transport: network.TCP, Number: 139}}
}

// NewHandler returns the state of one SMB connection.
func (Dissector) NewHandler(c *network.Conv) network.Handler {
	return &handler{conv: c,
		bufs:   [2]*network.Buffer{c.NewBuffer(MaxMessage + 4), c.NewBuffer(MaxMessage + 4)},
		setups: ntlm.NewSessionSetups(c),
		trees:  map[uint32]bool{}, pipes: map[FileID]*pipe{}, pending: map[uint64]pendingReq{},
	}
}

// pipe is one open named pipe and the RPC association it carries.
type pipe struct {
	name   string
	stream *dcerpc.Stream
}

// pendingReq is a request whose response the dissector needs.
type pendingReq struct {
	cmd     uint16
	share   string // TREE_CONNECT: share name
	name    string // CREATE: pipe name
	session uint64
	file    FileID // READ, IOCTL
}

type handler struct {
	conv      *network.Conv
	bufs      [2]*network.Buffer
	setups    *ntlm.SessionSetups
	trees     map[uint32]bool // tree id → is IPC$
	pipes     map[FileID]*pipe
	pipeOrder []FileID
	pending   map[uint64]pendingReq // by MessageId
	encrypted bool
}

func (h *handler) Data(dir network.Direction, ts time.Time, b []byte) {
	h.bufs[dir].Feed(b, NBSS, func(m []byte) {
		if m[0] != 0 {
			return // NetBIOS session request / keep-alive
		}
		h.message(dir, ts, m[4:])
	})
}

// Gap loses bytes of dir: SMB framing restarts, and every pipe's RPC
// stream of that direction resynchronizes too (its data may be lost).
func (h *handler) Gap(dir network.Direction) {
	h.bufs[dir].Gap()
	for _, id := range h.pipeOrder {
		h.pipes[id].stream.Gap(dir)
	}
}

func (h *handler) Close(time.Time) {
	for _, id := range h.pipeOrder {
		h.pipes[id].stream.Close()
	}
	h.pipes, h.pipeOrder = map[FileID]*pipe{}, nil
	h.setups.Close()
	h.bufs[0].Gap()
	h.bufs[1].Gap()
}

func (h *handler) message(dir network.Direction, ts time.Time, m []byte) {
	if len(m) < 4 {
		h.conv.Malformed()
		return
	}
	switch string(m[:4]) {
	case "\xfeSMB":
	case "\xfdSMB": // SMB3 transform header: encrypted
		if !h.encrypted {
			h.encrypted = true
			h.conv.Encrypted()
		}
		return
	case "\xffSMB", "\xfcSMB": // SMB1 (negotiation only here), compressed
		h.conv.Decoded()
		return
	default:
		h.conv.Malformed()
		return
	}
	if !Commands(m, func(hd Header, cmd []byte) { h.command(dir, ts, &hd, cmd) }) {
		h.conv.Malformed()
	}
}

func (h *handler) command(dir network.Direction, ts time.Time, hd *Header, m []byte) {
	h.conv.Decoded()
	if hd.Response() != (dir == network.ToClient) {
		h.conv.Malformed()
		return
	}
	if hd.Command == CmdSessionSetup {
		h.setups.Command(ts, m)
		return
	}
	body := m[HeaderLen:]
	le := binary.LittleEndian
	if !hd.Response() {
		switch hd.Command {
		case CmdTreeConnect:
			// StructureSize(2) Flags(2) PathOffset(2) PathLength(2)
			if len(body) < 8 {
				h.conv.Malformed()
				return
			}
			path, ok := slice(m, int(le.Uint16(body[4:])), int(le.Uint16(body[6:])))
			if !ok {
				h.conv.Malformed()
				return
			}
			h.expect(hd.MessageID, pendingReq{cmd: CmdTreeConnect, share: shareName(network.UTF16(path))})
		case CmdCreate:
			// NameOffset at 44, NameLength at 46 (MS-SMB2 2.2.13).
			if len(body) < 56 {
				h.conv.Malformed()
				return
			}
			name, ok := slice(m, int(le.Uint16(body[44:])), int(le.Uint16(body[46:])))
			if !ok {
				h.conv.Malformed()
				return
			}
			p := pipeName(network.UTF16(name))
			isIPC, known := h.trees[hd.TreeID]
			if isIPC || !known && knownPipes[p] {
				h.expect(hd.MessageID, pendingReq{cmd: CmdCreate, name: p, session: hd.SessionID})
			}
		case CmdWrite:
			// DataOffset(2)@2 Length(4)@4 Offset(8)@8 FileId(16)@16 (2.2.21).
			if len(body) < 48 {
				h.conv.Malformed()
				return
			}
			fid, _ := fileID(body[16:])
			if p := h.pipes[fid]; p != nil {
				data, ok := slice(m, int(le.Uint16(body[2:])), int(le.Uint32(body[4:])))
				if !ok {
					h.conv.Malformed()
					return
				}
				p.stream.Data(network.ToServer, ts, data)
			}
		case CmdRead:
			// FileId(16)@16 (2.2.19).
			if len(body) < 48 {
				h.conv.Malformed()
				return
			}
			fid, _ := fileID(body[16:])
			if h.pipes[fid] != nil {
				h.expect(hd.MessageID, pendingReq{cmd: CmdRead, file: fid})
			}
		case CmdIoctl:
			// CtlCode(4)@4 FileId(16)@8 InputOffset(4)@24 InputCount(4)@28 (2.2.31).
			if len(body) < 56 {
				h.conv.Malformed()
				return
			}
			if le.Uint32(body[4:]) != FsctlPipeTransceive {
				return
			}
			fid, _ := fileID(body[8:])
			if p := h.pipes[fid]; p != nil {
				data, ok := slice(m, int(le.Uint32(body[24:])), int(le.Uint32(body[28:])))
				if !ok {
					h.conv.Malformed()
					return
				}
				p.stream.Data(network.ToServer, ts, data)
				h.expect(hd.MessageID, pendingReq{cmd: CmdIoctl, file: fid})
			}
		case CmdClose:
			// FileId(16)@8 (2.2.15).
			if len(body) < 24 {
				h.conv.Malformed()
				return
			}
			fid, _ := fileID(body[8:])
			h.closePipe(fid)
		}
		return
	}

	req, ok := h.pending[hd.MessageID]
	if !ok || req.cmd != hd.Command {
		return
	}
	if hd.Status == StatusPending {
		return // interim response; the final one follows
	}
	delete(h.pending, hd.MessageID)
	if hd.Status != StatusSuccess && hd.Status != StatusBufferOverflow {
		return
	}
	switch hd.Command {
	case CmdTreeConnect:
		if _, known := h.trees[hd.TreeID]; known || len(h.trees) < maxTrees {
			h.trees[hd.TreeID] = req.share == "ipc$"
		}
	case CmdCreate:
		// FileId(16)@64 (2.2.14).
		if len(body) < 80 {
			h.conv.Malformed()
			return
		}
		fid, _ := fileID(body[64:])
		h.openPipe(fid, req)
	case CmdRead:
		// DataOffset(1)@2 DataLength(4)@4 (2.2.20).
		if len(body) < 16 {
			h.conv.Malformed()
			return
		}
		if p := h.pipes[req.file]; p != nil {
			data, ok := slice(m, int(body[2]), int(le.Uint32(body[4:])))
			if !ok {
				h.conv.Malformed()
				return
			}
			p.stream.Data(network.ToClient, ts, data)
		}
	case CmdIoctl:
		// OutputOffset(4)@32 OutputCount(4)@36 (2.2.32).
		if len(body) < 48 {
			h.conv.Malformed()
			return
		}
		if p := h.pipes[req.file]; p != nil {
			data, ok := slice(m, int(le.Uint32(body[32:])), int(le.Uint32(body[36:])))
			if !ok {
				h.conv.Malformed()
				return
			}
			p.stream.Data(network.ToClient, ts, data)
		}
	}
}

// expect remembers a request whose response matters, within the cap.
func (h *handler) expect(id uint64, r pendingReq) {
	if len(h.pending) >= maxPending {
		h.conv.Env.Counters.DroppedBytes++ // the answer will not be followed
		return
	}
	h.pending[id] = r
}

func (h *handler) openPipe(fid FileID, req pendingReq) {
	if old := h.pipes[fid]; old != nil {
		h.closePipe(fid)
	}
	if len(h.pipes) >= maxPipes {
		h.closePipe(h.pipeOrder[0])
	}
	s := dcerpc.NewStream(h.conv, dcerpc.TransportSMB, req.name)
	if u, ok := h.setups.User(req.session); ok {
		s.User = u
	}
	h.pipes[fid] = &pipe{name: req.name, stream: s}
	h.pipeOrder = append(h.pipeOrder, fid)
}

func (h *handler) closePipe(fid FileID) {
	p := h.pipes[fid]
	if p == nil {
		return
	}
	p.stream.Close()
	delete(h.pipes, fid)
	for i, id := range h.pipeOrder {
		if id == fid {
			h.pipeOrder = append(h.pipeOrder[:i], h.pipeOrder[i+1:]...)
			break
		}
	}
}

// shareName returns the lower-case share of a \\server\share path.
func shareName(path string) string {
	if i := strings.LastIndexByte(path, '\\'); i >= 0 {
		path = path[i+1:]
	}
	return strings.ToLower(path)
}

// pipeName normalizes a pipe's file name: lower-case, without a leading
// backslash or \PIPE\ prefix.
func pipeName(name string) string {
	name = strings.ToLower(strings.TrimLeft(name, `\`))
	name = strings.TrimPrefix(name, `pipe\`)
	return name
}

// knownPipes are RPC pipe names, for CREATEs on trees whose TREE_CONNECT
// was not seen (a capture that starts mid-connection).
var knownPipes = map[string]bool{
	"srvsvc": true, "wkssvc": true, "samr": true, "lsarpc": true, "lsass": true, "netlogon": true,
	"efsrpc": true, "spoolss": true, "drsuapi": true, "winreg": true, "svcctl": true, "atsvc": true,
	"netdfs": true, "fssagentrpc": true, "protected_storage": true, "epmapper": true, "dnsserver": true,
}
