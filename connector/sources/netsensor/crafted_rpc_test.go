package netsensor

import (
	"encoding/binary"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/castellan-itdr/castellan/mappings/network/dcerpc"
	"github.com/castellan-itdr/castellan/mappings/network/ntlm"
	"github.com/castellan-itdr/castellan/mappings/network/smb"
)

// Crafted captures for what the Samba lab cannot produce: authentication
// coercion (MS-EFSR, MS-RPRN and MS-DFSNM have no server in Samba's AD DC),
// DCShadow's DRSUAPI calls from a non-DC, and a zone transfer that
// succeeds. Frames are serialized by gopacket; SMB2, DCE/RPC and NDR stubs
// follow MS-SMB2, C706/MS-RPCE and the interfaces' IDL.

var (
	attacker = net.IPv4(10, 0, 0, 66).To4()
	dcIP     = net.IPv4(10, 0, 0, 1).To4()
	craftT0  = time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC)
)

// u16z encodes s as NUL-terminated UTF-16LE.
func u16z(s string) []byte { return append(utf16le(s), 0, 0) }

// ndr is a little-endian NDR20 stub encoder (MS-RPCE 2.2.5, C706 ch. 14).
type ndr struct{ b []byte }

func (n *ndr) align(k int) {
	for len(n.b)%k != 0 {
		n.b = append(n.b, 0)
	}
}
func (n *ndr) u32(v uint32) *ndr {
	n.align(4)
	n.b = binary.LittleEndian.AppendUint32(n.b, v)
	return n
}
func (n *ndr) raw(p []byte) *ndr { n.b = append(n.b, p...); return n }

// str encodes a conformant varying [string] wchar_t array.
func (n *ndr) str(s string) *ndr {
	c := uint32(len(utf16.Encode([]rune(s))) + 1)
	n.u32(c).u32(0).u32(c)
	n.b = append(n.b, u16z(s)...)
	return n
}

// ptrStr encodes a top-level [unique, string] wchar_t* (referent id, then
// the string).
func (n *ndr) ptrStr(s string) *ndr { return n.u32(0x00020000).str(s) }

// handle encodes a 20-byte context handle.
func (n *ndr) handle(id byte) *ndr {
	n.align(4)
	h := make([]byte, 20)
	h[4], h[19] = id, 0x5a
	n.b = append(n.b, h...)
	return n
}

// ntlmAuthV2 builds an NTLMSSP AUTHENTICATE with an NTLMv2-sized response
// (unicode names, a MIC present).
func ntlmAuthV2(domain, user, ws string) []byte {
	lm, nt := make([]byte, 24), make([]byte, 64)
	for i := range nt {
		nt[i] = byte(i * 7)
	}
	msg := ntlm.BuildAuthenticate(0xe2888215, lm, nt, domain, user, ws, true)
	for i := 72; i < 88; i++ {
		msg[i] = byte(i) // MIC
	}
	return msg
}

// ntlmChallenge builds an NTLMSSP CHALLENGE naming the server.
func ntlmChallenge(nbDomain, dnsComputer string) []byte {
	av := func(id uint16, s string) []byte {
		v := utf16le(s)
		b := binary.LittleEndian.AppendUint16(nil, id)
		b = binary.LittleEndian.AppendUint16(b, uint16(len(v)))
		return append(b, v...)
	}
	ti := append(append(av(2, nbDomain), av(3, dnsComputer)...), 0, 0, 0, 0)
	msg := make([]byte, 56)
	copy(msg, "NTLMSSP\x00")
	binary.LittleEndian.PutUint32(msg[8:], 2)
	binary.LittleEndian.PutUint32(msg[20:], 0xe2898215)
	copy(msg[24:32], "\x01\x23\x45\x67\x89\xab\xcd\xef")
	binary.LittleEndian.PutUint16(msg[40:], uint16(len(ti)))
	binary.LittleEndian.PutUint16(msg[42:], uint16(len(ti)))
	binary.LittleEndian.PutUint32(msg[44:], 56)
	return append(msg, ti...)
}

// pipeSession scripts SMB2 exchanges on one TCP connection: each call
// adds a request and its response.
type pipeSession struct {
	segs  [][]byte
	id    uint64
	sess  uint64
	tree  uint32
	files byte
}

func (p *pipeSession) msg() smb.Msg {
	p.id++
	return smb.Msg{MessageID: p.id, TreeID: p.tree, SessionID: p.sess}
}

func (p *pipeSession) pair(req, resp []byte) {
	p.segs = append(p.segs, smb.NBSSRecord(req), smb.NBSSRecord(resp))
}

func (p *pipeSession) login(domain, user string) {
	m := p.msg()
	p.pair(smb.BuildSessionSetup(m, []byte("NTLMSSP\x00\x01\x00\x00\x00\x97\x82\x08\xe2"+string(make([]byte, 24)))),
		smb.BuildSessionSetupResponse(smb.Msg{MessageID: m.MessageID, SessionID: p.sess, Status: 0xc0000016},
			ntlmChallenge("LAB", "dc1.lab.test")))
	m = p.msg()
	p.pair(smb.BuildSessionSetup(m, ntlmAuthV2(domain, user, "KALI")), smb.BuildSessionSetupResponse(m, nil))
	m = p.msg()
	req := smb.BuildTreeConnect(m, `\\10.0.0.1\IPC$`)
	p.tree = 1
	m.TreeID = p.tree
	p.pair(req, smb.BuildTreeConnectResponse(m, true))
}

// open opens a pipe and binds syntax on it; it returns the FileId.
func (p *pipeSession) open(name string, syntax dcerpc.SyntaxID) smb.FileID {
	p.files++
	fid := smb.FileID{p.files, 0, 0, 0, 0, 0, 0, 0, 0x11, p.files}
	m := p.msg()
	p.pair(smb.BuildCreate(m, name), smb.BuildCreateResponse(m, fid))
	bind := dcerpc.BuildBind(1, false, nil, syntax)
	m = p.msg()
	p.pair(smb.BuildWrite(m, fid, bind), smb.BuildWriteResponse(m, len(bind)))
	m = p.msg()
	p.pair(smb.BuildRead(m, fid, 4280), smb.BuildReadResponse(m, dcerpc.BuildBindAck(1, false, `\PIPE\`+name, nil, 0)))
	return fid
}

// call makes one RPC call through FSCTL_PIPE_TRANSCEIVE.
func (p *pipeSession) call(fid smb.FileID, callID uint32, opnum uint16, stub, out []byte) {
	m := p.msg()
	p.pair(smb.BuildIoctl(m, fid, dcerpc.BuildRequest(callID, dcerpc.FlagFirstFrag|dcerpc.FlagLastFrag, 0, opnum, stub, nil)),
		smb.BuildIoctlResponse(m, fid, dcerpc.BuildResponse(callID, dcerpc.FlagFirstFrag|dcerpc.FlagLastFrag, 0, out)))
}

func (p *pipeSession) close(fid smb.FileID) {
	m := p.msg()
	p.pair(smb.BuildClose(m, fid), smb.BuildCloseResponse(m))
}

// writeCraftedRPC writes samples/pcap/rpc-coercion-crafted.pcapng,
// rpc-dcshadow-crafted.pcapng and dns-axfr-crafted.pcapng.
func writeCraftedRPC(t *testing.T) {
	writeNg(t, "rpc-coercion-crafted.pcapng", func(w *pcapgo.NgWriter) {
		// PetitPotam (EFSR on \lsarpc and \efsrpc), PrinterBug (RPRN on
		// \spoolss) and DFSCoerce (DFSNM on \netdfs) from one SMB session.
		p := &pipeSession{sess: 0x0000100000000021}
		p.login("LAB", "mallory")
		unc := `\\10.0.0.66\share\x.txt`
		fid := p.open("lsarpc", dcerpc.MustSyntax("c681d488-d850-11d0-8c52-00c04fd90f7e", 1, 0))
		p.call(fid, 2, 0, (&ndr{}).str(unc).u32(0).b, (&ndr{}).handle(1).u32(0x35).b) // EfsRpcOpenFileRaw → ERROR_BAD_NETPATH
		p.close(fid)
		fid = p.open("efsrpc", dcerpc.MustSyntax("df1941c5-fe89-4e79-bf10-463657acf44d", 1, 0))
		p.call(fid, 2, 4, (&ndr{}).str(unc).b, (&ndr{}).u32(0x35).b) // EfsRpcEncryptFileSrv
		p.close(fid)
		fid = p.open("spoolss", dcerpc.MustSyntax("12345678-1234-abcd-ef00-0123456789ab", 1, 0))
		p.call(fid, 2, 1, (&ndr{}).ptrStr(`\\10.0.0.1`).u32(0).u32(0).u32(0).u32(0x00020002).b, // RpcOpenPrinter
			(&ndr{}).handle(2).u32(0).b)
		p.call(fid, 3, 65, (&ndr{}).handle(2).u32(0x00000100).u32(0).ptrStr(`\\10.0.0.66`).u32(0).u32(0).b, // RpcRemoteFindFirstPrinterChangeNotificationEx
			(&ndr{}).u32(0x000006ba).b)
		p.call(fid, 4, 29, (&ndr{}).handle(2).b, (&ndr{}).handle(0).u32(0).b) // RpcClosePrinter
		p.close(fid)
		fid = p.open("netdfs", dcerpc.MustSyntax("4fc742e0-4a10-11cf-8273-00aa004ae673", 3, 0))
		p.call(fid, 2, 13, (&ndr{}).str("10.0.0.66").str("share").u32(0).b, (&ndr{}).u32(0x00000005).b) // NetrDfsRemoveStdRoot
		p.close(fid)
		f := &tcpFlow{w: w, t: t, ts: craftT0, cip: attacker, sip: dcIP, cport: 51000, sport: 445, cseq: 100, sseq: 900}
		f.run(p.segs...)
	})

	writeNg(t, "rpc-dcshadow-crafted.pcapng", func(w *pcapgo.NgWriter) {
		// The endpoint mapper first (ept_map for DRSUAPI over TCP), then
		// DCShadow's calls on the dynamic port: sealed (stubs opaque),
		// authenticated with NTLM as a computer account.
		drs := dcerpc.MustSyntax("e3514235-4b06-11d1-ab04-00c04fc2dcd2", 4, 0)
		epm := dcerpc.MustSyntax("e1af8308-5d1f-11c9-91a4-08002b14a0fa", 3, 0)
		f := &tcpFlow{w: w, t: t, ts: craftT0, cip: attacker, sip: dcIP, cport: 51010, sport: 135, cseq: 7000, sseq: 8000}
		f.run(dcerpc.BuildBind(1, false, nil, epm), dcerpc.BuildBindAck(1, false, "135", nil, 0),
			dcerpc.BuildRequest(2, 3, 0, 3, eptMapStub(drs, 0), nil),
			dcerpc.BuildResponse(2, 3, 0, eptMapAnswer(drs, 49667)))
		neg := &dcerpc.Auth{Type: 10, Level: 6, Value: []byte("NTLMSSP\x00\x01\x00\x00\x00\x97\x82\x08\xe2" + string(make([]byte, 24)))}
		seal := func(n int) (*dcerpc.Auth, []byte) {
			stub := make([]byte, n)
			for i := range stub {
				stub[i] = byte(i*31 + n)
			}
			sig := []byte{1, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef, 0x11, 0x22, 0x33, 0x44, 0, 0, 0, byte(n)}
			return &dcerpc.Auth{Type: 10, Level: 6, Value: sig}, stub
		}
		const first, last = dcerpc.FlagFirstFrag, dcerpc.FlagLastFrag
		req := func(call uint32, flags uint8, op uint16, n int) []byte {
			a, s := seal(n)
			return dcerpc.BuildRequest(call, flags, 0, op, s, a)
		}
		resp := func(call uint32, flags uint8, n int) []byte {
			a, s := seal(n)
			b := dcerpc.BuildResponse(call, flags, 0, s)
			return sealPDU(b, a)
		}
		g := &tcpFlow{w: w, t: t, ts: craftT0.Add(time.Second), cip: attacker, sip: dcIP, cport: 51011, sport: 49667, cseq: 300, sseq: 600}
		g.run(dcerpc.BuildBind(1, false, neg, drs),
			dcerpc.BuildBindAck(1, false, "49667", &dcerpc.Auth{Type: 10, Level: 6, Value: ntlmChallenge("LAB", "dc1.lab.test")}, 0),
			dcerpc.BuildAuth3(1, dcerpc.Auth{Type: 10, Level: 6, Value: ntlmAuthV2("LAB", "ROGUE$", "ROGUE")}),
			nil,                                                // (auth3 has no answer)
			req(2, first|last, 0, 64), resp(2, first|last, 64), // DRSBind
			req(3, first|last, 17, 512), resp(3, first|last, 96), // DRSAddEntry: the rogue nTDSDSA object
			req(4, first|last, 5, 200), resp(4, first|last, 8), // DRSReplicaAdd: make the DC pull from the rogue
			req(5, first, 3, 1000), nil, // DRSGetNCChanges, request in two fragments...
			req(5, last, 3, 300), resp(5, first, 1400), // ...answer in three
			nil, resp(5, 0, 1400),
			nil, resp(5, last, 700))
	})

	writeNg(t, "dns-axfr-crafted.pcapng", func(w *pcapgo.NgWriter) {
		// A workstation resolves the DC, then pulls the whole zone (a
		// Windows DNS server configured to allow transfers to any host).
		udp := func(ts time.Time, src, dst net.IP, sp, dp uint16, d *layers.DNS) {
			writeUDP(t, w, ts, src, dst, sp, dp, dnsBytes(t, d))
		}
		q := []layers.DNSQuestion{{Name: []byte("_ldap._tcp.dc._msdcs.corp.example"), Type: layers.DNSTypeSRV, Class: layers.DNSClassIN}}
		udp(craftT0, attacker, dcIP, 53001, 53, &layers.DNS{ID: 0x1111, RD: true, Questions: q})
		udp(craftT0.Add(time.Millisecond), dcIP, attacker, 53, 53001, &layers.DNS{ID: 0x1111, QR: true, AA: true, RD: true, RA: true, Questions: q,
			Answers: []layers.DNSResourceRecord{{Name: q[0].Name, Type: layers.DNSTypeSRV, Class: layers.DNSClassIN, TTL: 600,
				SRV: layers.DNSSRV{Priority: 0, Weight: 100, Port: 389, Name: []byte("dc1.corp.example")}}}})
		zone := "corp.example"
		soa := layers.DNSResourceRecord{Name: []byte(zone), Type: layers.DNSTypeSOA, Class: layers.DNSClassIN, TTL: 3600,
			SOA: layers.DNSSOA{MName: []byte("dc1." + zone), RName: []byte("hostmaster." + zone), Serial: 42, Refresh: 900,
				Retry: 600, Expire: 86400, Minimum: 3600}}
		a := func(host string, last byte) layers.DNSResourceRecord {
			return layers.DNSResourceRecord{Name: []byte(host + "." + zone), Type: layers.DNSTypeA, Class: layers.DNSClassIN,
				TTL: 1200, IP: net.IPv4(10, 0, 0, last).To4()}
		}
		axfr := []layers.DNSQuestion{{Name: []byte(zone), Type: layers.DNSType(252), Class: layers.DNSClassIN}}
		m1 := &layers.DNS{ID: 0x2222, QR: true, AA: true, Questions: axfr,
			Answers: []layers.DNSResourceRecord{soa, a("dc1", 1), a("dc2", 2), a("sql01", 30)}}
		m2 := &layers.DNS{ID: 0x2222, QR: true, AA: true, Answers: []layers.DNSResourceRecord{a("ws001", 101), a("ws002", 102), soa}}
		f := &tcpFlow{w: w, t: t, ts: craftT0.Add(time.Second), cip: attacker, sip: dcIP, cport: 51020, sport: 53, cseq: 1, sseq: 1}
		f.run(tcpDNS(dnsBytes(t, &layers.DNS{ID: 0x2222, Questions: axfr})), tcpDNS(dnsBytes(t, m1)), nil, tcpDNS(dnsBytes(t, m2)))
		// An IXFR refused to another host.
		ixfr := []layers.DNSQuestion{{Name: []byte(zone), Type: layers.DNSType(251), Class: layers.DNSClassIN}}
		other := net.IPv4(10, 0, 0, 77).To4()
		g := &tcpFlow{w: w, t: t, ts: craftT0.Add(2 * time.Second), cip: other, sip: dcIP, cport: 51021, sport: 53, cseq: 1, sseq: 1}
		g.run(tcpDNS(dnsBytes(t, &layers.DNS{ID: 0x3333, Questions: ixfr,
			Authorities: []layers.DNSResourceRecord{soa}})),
			tcpDNS(dnsBytes(t, &layers.DNS{ID: 0x3333, QR: true, ResponseCode: layers.DNSResponseCodeRefused, Questions: ixfr})))
	})
}

// eptMapStub encodes ept_map's request (C706 appendix O): a null object
// UUID, the tower of the wanted interface over ncacn_ip_tcp, a null entry
// handle and max_towers.
func eptMapStub(iface dcerpc.SyntaxID, port uint16) []byte {
	tw := tower(iface, port)
	n := &ndr{}
	n.u32(1).raw(make([]byte, 16)) // object: refid, nil UUID
	n.u32(2).u32(uint32(len(tw)))  // map_tower: refid, tower_length
	n.u32(uint32(len(tw))).raw(tw) // tower_octet_string (conformant)
	n.align(4)
	n.raw(make([]byte, 20)) // entry_handle
	return n.u32(4).b       // max_towers
}

// eptMapAnswer encodes ept_map's response with one tower naming port.
func eptMapAnswer(iface dcerpc.SyntaxID, port uint16) []byte {
	tw := tower(iface, port)
	n := &ndr{}
	n.raw(make([]byte, 20)).u32(1) // entry_handle, num_towers
	n.u32(4).u32(0).u32(1).u32(3)  // towers: max 4, offset 0, actual 1, refid
	n.u32(uint32(len(tw))).u32(uint32(len(tw))).raw(tw)
	n.align(4)
	return n.u32(0).b // status
}

// tower encodes a protocol tower: interface, NDR, connection-oriented RPC,
// TCP port, IP address (C706 appendix L, MS-RPCE 2.2.1.1.x).
func tower(iface dcerpc.SyntaxID, port uint16) []byte {
	floor := func(lhs, rhs []byte) []byte {
		b := binary.LittleEndian.AppendUint16(nil, uint16(len(lhs)))
		b = append(b, lhs...)
		b = binary.LittleEndian.AppendUint16(b, uint16(len(rhs)))
		return append(b, rhs...)
	}
	syn := func(s dcerpc.SyntaxID) []byte {
		b := append([]byte{0x0d}, s.UUID[:]...)
		b = binary.LittleEndian.AppendUint16(b, s.Major)
		return b
	}
	ndr20 := dcerpc.MustSyntax("8a885d04-1ceb-11c9-9fe8-08002b104860", 2, 0)
	b := binary.LittleEndian.AppendUint16(nil, 5)
	b = append(b, floor(syn(iface), binary.LittleEndian.AppendUint16(nil, iface.Minor))...)
	b = append(b, floor(syn(ndr20), []byte{0, 0})...)
	b = append(b, floor([]byte{0x0b}, []byte{0, 0})...)
	b = append(b, floor([]byte{0x07}, binary.BigEndian.AppendUint16(nil, port))...)
	return append(b, floor([]byte{0x09}, []byte{10, 0, 0, 1})...)
}

// sealPDU appends a verifier to a built response (frag/auth lengths
// rewritten).
func sealPDU(b []byte, a *dcerpc.Auth) []byte {
	pad := (4 - len(b)%4) % 4
	b = append(b, make([]byte, pad)...)
	b = append(b, a.Type, a.Level, byte(pad), 0, 0, 0, 0, 0)
	b = append(b, a.Value...)
	binary.LittleEndian.PutUint16(b[8:], uint16(len(b)))
	binary.LittleEndian.PutUint16(b[10:], uint16(len(a.Value)))
	return b
}

func dnsBytes(t *testing.T, d *layers.DNS) []byte {
	buf := gopacket.NewSerializeBuffer()
	if err := d.SerializeTo(buf, gopacket.SerializeOptions{FixLengths: true}); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

func tcpDNS(b []byte) []byte { return append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...) }

// writeUDP writes one untagged Ethernet/IPv4/UDP frame.
func writeUDP(t *testing.T, w *pcapgo.NgWriter, ts time.Time, src, dst net.IP, sp, dp uint16, payload []byte) {
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2},
		EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: src, DstIP: dst}
	udp := &layers.UDP{SrcPort: layers.UDPPort(sp), DstPort: layers.UDPPort(dp)}
	_ = udp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		eth, ip, udp, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(b), Length: len(b)}, b); err != nil {
		t.Fatal(err)
	}
}

// writeNg creates samples/pcap/name as pcapng and lets fill write frames.
func writeNg(t *testing.T, name string, fill func(w *pcapgo.NgWriter)) {
	out, err := os.Create(filepath.Join(samplesDir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	w, err := pcapgo.NewNgWriter(out, layers.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	fill(w)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
}
