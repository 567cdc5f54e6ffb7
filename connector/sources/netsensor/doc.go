// Package netsensor is the network sensor source: it reads pcap and pcapng
// files (or, built with -tags afpacket on Linux, captures live from an
// interface with a BPF filter), reassembles TCP, and hands the events the
// dissectors of mappings/network produce (Kerberos, NTLM, LDAP, SMB2 with
// DCE/RPC over named pipes, DCE/RPC over TCP, DNS) to the pipeline with
// event.dataset "netsensor".
//
// Decoding: Ethernet (with 802.1Q/QinQ tags), Linux cooked, raw IP and
// BSD loopback links; IPv4 and IPv6 (extension headers skipped, fragments
// counted and dropped); UDP datagrams per 5-tuple; TCP through gopacket's
// tcpassembly. Only traffic on a port some dissector claims is assembled,
// plus conversations a network.Sniffer recognizes by content on other
// ports: a DCE/RPC bind on a DC's dynamic RPC port makes that server
// endpoint known (Stats.Sniffed, at most maxSniffed remembered), and the
// conversation is assembled from that segment on (a SYN is simulated for
// each half, since the real one went by before the protocol was known).
//
// Memory is bounded: the reassembler's out-of-order pages are capped per
// connection and in total, each dissector caps the message it holds per
// direction and all of them share one budget, open conversations are
// capped, and idle ones close after Options.StreamTimeout of capture time.
// What a cap drops is counted (Stats.Dissect.DroppedBytes, Evicted,
// Timeouts). The pcap/pcapng reader is the package's own: it caps the
// record size before allocating (MaxPacket), so a hostile header cannot
// ask for gigabytes, and it skips damaged pcapng blocks where framing
// allows.
//
// DNS volume: on a busy DC every client lookup is a DNS query, while the
// detections need zone transfers (and sometimes failures). The source's
// dns.events setting selects the queries that become dns_query events:
//
//	dns: { events: transfers }  # default: AXFR/IXFR requests and answers only
//	dns: { events: failures }   # plus queries answered with an RCODE other than NOERROR
//	dns: { events: all }        # every query
//
// Any other value is a configuration error ("dns.events: ..."). Every
// query is still decoded and counted: source_dns_queries counts the
// queries seen, source_dns_events the dns_query events emitted. The
// library entry points (ReadFile, Read) take the selection in
// Options.DNSEvents, whose zero value is every query.
//
// Checkpoints: a file's position is its identity (device, inode) and the
// number of packets whose events have been handed off; it is committed with
// the batch holding those events. After a restart the file is read again
// from that packet on (conversations that started before it lose their
// beginning). Live capture has no checkpoint.
package netsensor
