package kerberos

import (
	"testing"

	"github.com/castellan-itdr/castellan/mappings/network"
	"github.com/castellan-itdr/castellan/mappings/network/nettest"
)

// BenchmarkReplayTCP replays the recorded Kerberos exchanges over TCP (AS
// with and without pre-authentication, AS-REP roasting, RC4 service
// tickets) through the dissector; see nettest.BenchmarkReplay.
func BenchmarkReplayTCP(b *testing.B) {
	const dir = "../../../samples/pcap/"
	nettest.BenchmarkReplay(b, New(), network.TCP, 88, dir+"kerberos-as.pcap", dir+"kerberos-asrep.pcap", dir+"kerberos-tgs-rc4.pcap")
}
