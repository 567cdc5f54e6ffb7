package netsensor

import (
	"encoding/base64"
	"encoding/binary"
	"net"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/castellan-itdr/castellan/mappings/network/ntlm"
)

// utf16le encodes s as UTF-16LE, without a terminator.
func utf16le(s string) []byte {
	var b []byte
	for _, r := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, r)
	}
	return b
}

// ntlmAuthV1 builds an NTLMSSP AUTHENTICATE with 24-byte LM and NT
// responses (NTLMv1), as Samba cannot be made to produce.
func ntlmAuthV1(domain, user, ws string) []byte {
	lm, nt := make([]byte, 24), make([]byte, 24)
	for i := range lm {
		lm[i], nt[i] = byte(i+1), byte(0x80+i)
	}
	return ntlm.BuildAuthenticate(0x00000201, lm, nt, domain, user, ws, false) // unicode | NTLM
}

// smb2 builds an NBSS-framed SMB2 SESSION_SETUP request or response.
func smb2(resp bool, status uint32, msgID uint64, blob []byte) []byte {
	h := make([]byte, 64)
	copy(h, "\xfeSMB")
	binary.LittleEndian.PutUint16(h[4:], 64)
	binary.LittleEndian.PutUint32(h[8:], status)
	binary.LittleEndian.PutUint16(h[12:], 1)
	if resp {
		binary.LittleEndian.PutUint32(h[16:], 1)
	}
	binary.LittleEndian.PutUint64(h[24:], msgID)
	binary.LittleEndian.PutUint64(h[40:], 0x1234)
	var body []byte
	if resp {
		body = make([]byte, 8)
		binary.LittleEndian.PutUint16(body, 9)
	} else {
		body = make([]byte, 24)
		binary.LittleEndian.PutUint16(body, 25)
		binary.LittleEndian.PutUint16(body[12:], 64+24)
		binary.LittleEndian.PutUint16(body[14:], uint16(len(blob)))
	}
	m := append(append(h, body...), blob...)
	nb := []byte{0, byte(len(m) >> 16), byte(len(m) >> 8), byte(len(m))}
	return append(nb, m...)
}

// tcpFlow writes one TCP conversation: handshake, the given segments
// (client first, alternating as listed), and FINs.
type tcpFlow struct {
	w          *pcapgo.NgWriter
	t          *testing.T
	ts         time.Time
	vlan       uint16
	v6         bool
	cip, sip   net.IP
	cport      uint16
	sport      uint16
	cseq, sseq uint32
}

func (f *tcpFlow) send(fromClient bool, flags string, data []byte) {
	f.ts = f.ts.Add(time.Millisecond)
	tcp := &layers.TCP{Window: 65535}
	src, dst := f.cip, f.sip
	tcp.SrcPort, tcp.DstPort = layers.TCPPort(f.cport), layers.TCPPort(f.sport)
	seq, ack := &f.cseq, &f.sseq
	if !fromClient {
		src, dst = dst, src
		tcp.SrcPort, tcp.DstPort = tcp.DstPort, tcp.SrcPort
		seq, ack = ack, seq
	}
	tcp.Seq, tcp.Ack = *seq, *ack
	for _, c := range flags {
		switch c {
		case 'S':
			tcp.SYN = true
		case 'A':
			tcp.ACK = true
		case 'F':
			tcp.FIN = true
		case 'P':
			tcp.PSH = true
		}
	}
	*seq += uint32(len(data))
	if tcp.SYN || tcp.FIN {
		*seq++
	}
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2},
		EthernetType: layers.EthernetTypeDot1Q}
	q := &layers.Dot1Q{VLANIdentifier: f.vlan}
	var ip gopacket.SerializableLayer
	if f.v6 {
		q.Type = layers.EthernetTypeIPv6
		ip6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP, SrcIP: src, DstIP: dst}
		_ = tcp.SetNetworkLayerForChecksum(ip6)
		ip = ip6
	} else {
		q.Type = layers.EthernetTypeIPv4
		ip4 := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: src, DstIP: dst}
		_ = tcp.SetNetworkLayerForChecksum(ip4)
		ip = ip4
	}
	layersOut := []gopacket.SerializableLayer{eth, q, ip, tcp, gopacket.Payload(data)}
	if f.vlan == 0 { // untagged
		eth.EthernetType = q.Type
		layersOut = append(layersOut[:1], layersOut[2:]...)
	}
	buf := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, layersOut...)
	if err != nil {
		f.t.Fatal(err)
	}
	b := buf.Bytes()
	ci := gopacket.CaptureInfo{Timestamp: f.ts, CaptureLength: len(b), Length: len(b)}
	if err := f.w.WritePacket(ci, b); err != nil {
		f.t.Fatal(err)
	}
}

// run writes the handshake, the segments (even indexes from the client,
// odd from the server; nil skips a turn) and the FINs.
func (f *tcpFlow) run(segments ...[]byte) {
	f.send(true, "S", nil)
	f.send(false, "SA", nil)
	f.send(true, "A", nil)
	for i, s := range segments {
		if s == nil {
			continue
		}
		f.send(i%2 == 0, "PA", s)
	}
	f.send(true, "FA", nil)
	f.send(false, "FA", nil)
	f.send(true, "A", nil)
}

// writeCrafted writes samples/pcap/ntlmv1-vlan-ipv6.pcapng: NTLMv1 in SMB2
// over IPv6 and in HTTP over IPv4, both 802.1Q-tagged.
func writeCrafted(t *testing.T) {
	writeNg(t, "ntlmv1-vlan-ipv6.pcapng", func(w *pcapgo.NgWriter) {
		start := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
		auth := ntlmAuthV1("CORP", "legacy", "OLDXP")
		smb := &tcpFlow{w: w, t: t, ts: start, vlan: 42, v6: true, cip: net.ParseIP("fd00::10"), sip: net.ParseIP("fd00::1"),
			cport: 50000, sport: 445, cseq: 1000, sseq: 5000}
		smb.run(smb2(false, 0, 2, auth), smb2(true, 0xc000006d, 2, nil))
		http := &tcpFlow{w: w, t: t, ts: start.Add(time.Second), vlan: 7, cip: net.IPv4(10, 0, 0, 20).To4(),
			sip: net.IPv4(10, 0, 0, 5).To4(), cport: 50001, sport: 80, cseq: 1, sseq: 1}
		http.run([]byte("GET /legacy HTTP/1.1\r\nHost: web\r\nAuthorization: NTLM "+
			base64.StdEncoding.EncodeToString(ntlmAuthV1("CORP", "websvc", "OLDXP"))+"\r\n\r\n"),
			[]byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"))
	})
	writeCraftedRPC(t)
}
