package ldap

import (
	"testing"

	"github.com/castellan-itdr/castellan/mappings/network"
	"github.com/castellan-itdr/castellan/mappings/network/nettest"
)

// BenchmarkReplayRecon replays the recorded LDAP reconnaissance (binds and
// searches) and modifications through the dissector; see
// nettest.BenchmarkReplay.
func BenchmarkReplayRecon(b *testing.B) {
	const dir = "../../../samples/pcap/"
	nettest.BenchmarkReplay(b, New(), network.TCP, 389, dir+"ldap-recon.pcap", dir+"ldap-modify.pcap")
}
