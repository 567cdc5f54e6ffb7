package netsensor

import "testing"

// Recorded from the Samba lab by scripts/record-rpc-dns-pcaps.sh.
func TestRPCSamples(t *testing.T) {
	evs, st := readSample(t, "rpc-smb-recon.pcap")
	smb := []string{"event.kind", "rpc_call", "rpc.transport", "smb", "user.name", "Administrator", "user.domain", "LAB",
		"destination.port", "445", "event.outcome", "success", "rpc.return_value", "0x00000000"}
	expect(t, evs, 1, append(smb, "rpc.interface", "samr", "rpc.pipe", "samr", "rpc.operation", "SamrEnumerateDomainsInSamServer", "rpc.opnum", "6")...)
	expect(t, evs, 1, append(smb, "rpc.interface", "samr", "rpc.pipe", "samr", "rpc.operation", "SamrEnumerateUsersInDomain", "rpc.opnum", "13",
		"rpc.interface_uuid", "12345778-1234-abcd-ef00-0123456789ac", "rpc.interface_version", "1.0")...)
	expect(t, evs, 1, append(smb, "rpc.interface", "samr", "rpc.operation", "SamrEnumerateGroupsInDomain")...)
	expect(t, evs, 3, append(smb, "rpc.interface", "samr", "rpc.operation", "SamrConnect5", "rpc.opnum", "64")...)
	expect(t, evs, 1, append(smb, "rpc.interface", "lsarpc", "rpc.pipe", "lsarpc", "rpc.operation", "LsarLookupNames")...)
	expect(t, evs, 1, append(smb, "rpc.interface", "lsarpc", "rpc.operation", "LsarQueryInformationPolicy")...)
	expect(t, evs, 1, append(smb, "rpc.interface", "srvsvc", "rpc.pipe", "srvsvc", "rpc.operation", "NetrSessionEnum", "rpc.opnum", "12")...)
	expect(t, evs, 1, append(smb, "rpc.interface", "srvsvc", "rpc.operation", "NetrShareEnum", "rpc.opnum", "15")...)
	expect(t, evs, 1, "event.kind", "ntlm_auth", "user.name", "Administrator", "event.outcome", "success")
	if st.Dissect.Malformed != 0 || st.Dissect.Encrypted != 0 {
		t.Errorf("malformed %d encrypted %d", st.Dissect.Malformed, st.Dissect.Encrypted)
	}

	// SMB3 encryption required: the session setup is readable, the pipe
	// traffic is not (counted, no RPC event).
	evs, st = readSample(t, "rpc-smb-encrypted.pcap")
	expect(t, evs, 1, "event.kind", "ntlm_auth", "user.name", "Administrator", "event.outcome", "success")
	if len(evs) != 1 || st.Dissect.Encrypted != 1 {
		t.Errorf("%d events, encrypted %d", len(evs), st.Dissect.Encrypted)
	}

	// DCSync: ept_map on 135, then DRSUAPI on the dynamic port found by its bind.
	evs, st = readSample(t, "rpc-drsuapi-dcsync.pcap")
	expect(t, evs, 1, "event.kind", "rpc_call", "rpc.interface", "epmapper", "rpc.operation", "ept_map", "destination.port", "135")
	get := expect(t, evs, 1, "event.kind", "rpc_call", "rpc.interface", "drsuapi", "rpc.operation", "DRSGetNCChanges", "rpc.opnum", "3",
		"rpc.transport", "tcp", "rpc.auth_level", "privacy", "user.name", "Administrator", "event.outcome", "success", "rpc.return_value", "")
	if len(get) == 1 && (get[0].Destination.Port < 49152 || get[0].RPC.Pipe != "") {
		t.Errorf("DRSGetNCChanges not on the dynamic port: %+v", get[0].Destination)
	}
	expect(t, evs, 1, "event.kind", "rpc_call", "rpc.operation", "DRSBind")
	if st.Sniffed != 1 {
		t.Errorf("sniffed %d endpoints, want 1", st.Sniffed)
	}

	// Zerologon attempt: anonymous, refused by the DC.
	evs, _ = readSample(t, "rpc-netlogon-zerologon.pcap")
	expect(t, evs, 3, "rpc.interface", "netlogon", "rpc.operation", "NetrServerReqChallenge", "rpc.opnum", "4", "event.outcome", "success")
	expect(t, evs, 3, "rpc.interface", "netlogon", "rpc.operation", "NetrServerAuthenticate3", "rpc.opnum", "26",
		"event.outcome", "failure", "rpc.return_value", "0xc0000022", "event.reason", "access denied", "user.name", "")
	expect(t, evs, 1, "rpc.interface", "netlogon", "rpc.operation", "NetrServerPasswordSet2", "rpc.opnum", "30", "event.outcome", "failure")

	evs, _ = readSample(t, "rpc-tcp-admin.pcap")
	expect(t, evs, 2, "rpc.interface", "drsuapi", "rpc.operation", "DRSGetReplInfo", "rpc.auth_level", "privacy")
	expect(t, evs, 1, "rpc.interface", "dnsserver", "rpc.operation", "R_DnssrvEnumRecords2", "rpc.auth_level", "integrity",
		"rpc.return_value", "0x00000000")
}

func TestDNSSamples(t *testing.T) {
	evs, st := readSample(t, "dns-queries-axfr.pcap")
	expect(t, evs, 1, "event.kind", "dns_query", "dns.question.name", "_ldap._tcp.dc._msdcs.lab.test", "dns.question.type", "SRV",
		"dns.response_code", "NOERROR", "dns.answers_count", "1", "event.outcome", "success", "event.action", "dns-query",
		"dns.zone_transfer", "false", "destination.port", "53")
	expect(t, evs, 1, "dns.question.name", "nosuch.lab.test", "dns.response_code", "NXDOMAIN", "event.outcome", "failure")
	expect(t, evs, 1, "dns.question.name", "_kerberos._tcp.lab.test", "original.Transport", "tcp")
	// Samba answers AXFR without records (it does not transfer zones).
	expect(t, evs, 2, "dns.question.type", "AXFR", "dns.zone_transfer", "true", "event.action", "zone-transfer",
		"dns.response_code", "NOERROR", "dns.answers_count", "")
	if st.Dissect.Malformed != 0 || len(evs) != 5 {
		t.Errorf("malformed %d, %d events", st.Dissect.Malformed, len(evs))
	}
}

// Crafted by writeCraftedRPC (go test -run TestGolden -update).
func TestCraftedRPCSamples(t *testing.T) {
	evs, _ := readSample(t, "rpc-coercion-crafted.pcapng")
	co := []string{"event.kind", "rpc_call", "source.ip", "10.0.0.66", "user.name", "mallory", "rpc.transport", "smb"}
	expect(t, evs, 1, append(co, "rpc.interface", "efsrpc", "rpc.pipe", "lsarpc", "rpc.operation", "EfsRpcOpenFileRaw", "rpc.opnum", "0",
		"rpc.interface_uuid", "c681d488-d850-11d0-8c52-00c04fd90f7e", "rpc.return_value", "0x00000035")...)
	expect(t, evs, 1, append(co, "rpc.interface", "efsrpc", "rpc.pipe", "efsrpc", "rpc.operation", "EfsRpcEncryptFileSrv", "rpc.opnum", "4",
		"rpc.interface_uuid", "df1941c5-fe89-4e79-bf10-463657acf44d")...)
	expect(t, evs, 1, append(co, "rpc.interface", "spoolss", "rpc.operation", "RpcRemoteFindFirstPrinterChangeNotificationEx", "rpc.opnum", "65")...)
	expect(t, evs, 1, append(co, "rpc.interface", "netdfs", "rpc.operation", "NetrDfsRemoveStdRoot", "rpc.opnum", "13")...)
	expect(t, evs, 1, "event.kind", "ntlm_auth", "user.name", "mallory", "auth.ntlm.version", "v2", "host.name", "dc1.lab.test")

	evs, st := readSample(t, "rpc-dcshadow-crafted.pcapng")
	ds := []string{"event.kind", "rpc_call", "source.ip", "10.0.0.66", "destination.port", "49667", "rpc.interface", "drsuapi",
		"user.name", "ROGUE$", "user.is_machine", "true", "rpc.auth_level", "privacy", "event.outcome", "success"}
	expect(t, evs, 1, append(ds, "rpc.operation", "DRSAddEntry", "rpc.opnum", "17")...)
	expect(t, evs, 1, append(ds, "rpc.operation", "DRSReplicaAdd", "rpc.opnum", "5")...)
	expect(t, evs, 1, append(ds, "rpc.operation", "DRSGetNCChanges", "original.Fragments", "2")...)
	expect(t, evs, 1, "rpc.interface", "epmapper", "rpc.operation", "ept_map", "destination.port", "135")
	if st.TCPConversations != 2 || st.Sniffed != 1 || st.Dissect.Malformed != 0 {
		t.Errorf("conversations %d sniffed %d malformed %d", st.TCPConversations, st.Sniffed, st.Dissect.Malformed)
	}

	evs, _ = readSample(t, "dns-axfr-crafted.pcapng")
	expect(t, evs, 1, "event.kind", "dns_query", "source.ip", "10.0.0.66", "dns.question.name", "corp.example", "dns.question.type", "AXFR",
		"dns.zone_transfer", "true", "dns.answers_count", "7", "dns.response_code", "NOERROR", "event.outcome", "success")
	expect(t, evs, 1, "source.ip", "10.0.0.77", "dns.question.type", "IXFR", "dns.response_code", "REFUSED", "event.outcome", "failure")
	expect(t, evs, 1, "dns.question.type", "SRV", "dns.zone_transfer", "false", "original.Transport", "udp")
}
