package smb

import (
	"testing"

	"github.com/castellan-itdr/castellan/mappings/network"
	"github.com/castellan-itdr/castellan/mappings/network/nettest"
)

// BenchmarkReplayNTLM replays the recorded SMB2 NTLM session setups
// (ntlm.SessionSetups) and pipe calls through the dissector; see
// nettest.BenchmarkReplay.
func BenchmarkReplayNTLM(b *testing.B) {
	const dir = "../../../samples/pcap/"
	nettest.BenchmarkReplay(b, New(), network.TCP, 445, dir+"smb-ntlm.pcap", dir+"rpc-smb-recon.pcap")
}
