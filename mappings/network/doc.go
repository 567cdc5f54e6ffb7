// Package network turns application-layer traffic seen on the wire into
// schema.Events: it defines the dissector model the network sensor
// (connector/sources/netsensor) drives, and the helpers dissectors share.
//
// The capture side (pcap and pcapng files, live capture, IP and TCP
// reassembly) lives in the sensor; protocol knowledge lives in one
// subpackage per protocol (kerberos, ntlm, ldap, smb, dcerpc, dns), each
// exporting a Dissector. Adding a protocol is a new subpackage plus one
// entry in the sensor's default Registry. A Dissector that also implements
// Sniffer is offered TCP conversations on ports nobody claims, to
// recognize its protocol by content (DCE/RPC on dynamic ports).
//
// # Model
//
// A Conv is one conversation: a TCP connection or a UDP 5-tuple, oriented
// client → server (the server is the side whose port a dissector claims).
// The sensor asks the Registry which Dissector owns a conversation, creates
// one Handler for it with Dissector.NewHandler, and then calls, from one
// goroutine, Data with the bytes of each direction in order (TCP reassembled,
// UDP one datagram per call), Gap when bytes were lost, and Close once at
// the end. Handlers emit events through Conv.Emit, which stamps the
// common fields (source/destination, host, dataset, stable id).
//
// Handlers own their state, must bound it (Buffer caps what a direction may
// hold; Conv.Env.Budget caps what all conversations hold together), and must
// treat every byte as hostile: malformed input is counted (Conv.Malformed),
// never fatal. The sensor additionally recovers panics per handler.
//
// # Stable ids
//
// An event's id is a hash of "netsensor", the transport, the client and
// server address:port, the packet timestamp, the message index within the
// conversation and the event kind: replaying the same capture gives the same
// ids whichever file or path it is read from.
package network
