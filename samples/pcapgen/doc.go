// Package pcapgen writes synthetic packet captures of domain-controller
// traffic: Kerberos (AS and TGS exchanges, errors), LDAP (binds, searches),
// SMB2 session setup with NTLMSSP, DNS (queries and zone transfers) and
// DCE/RPC calls, each message built byte by byte from its specification
// (RFC 4120, RFC 4511, MS-SMB2, MS-NLMP, RFC 1035, C706 / MS-RPCE) and
// framed in Ethernet, IPv4, UDP and TCP (handshake, MSS-sized segments,
// FIN).
//
// A Writer holds the capture; Conv helpers write one conversation each.
// Generate writes a deterministic traffic mix of a busy domain controller up
// to a target size (the benchmark capture of `castellan samples generate
// --format pcap`); the builders are also used to craft the network rule
// samples.
package pcapgen
