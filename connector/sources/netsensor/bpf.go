package netsensor

import (
	"fmt"
	"strings"

	"github.com/castellan-itdr/castellan/mappings/network"
)

// DefaultBPF returns a filter for the ports the registry's dissectors
// claim, e.g. "tcp port 88 or udp port 88 or tcp port 389 …". When a
// dissector recognizes conversations by content (DCE/RPC on dynamic
// ports), TCP segments whose payload starts with a DCE/RPC 5.x header pass
// too (a PDU continued in a later segment does not: live capture then sees
// those calls' first segments only, which is what names them).
func DefaultBPF(r *network.Registry) string {
	var parts []string
	for _, p := range r.Ports() {
		parts = append(parts, fmt.Sprintf("%s port %d", p.Transport, p.Number))
	}
	if len(r.Sniffers()) > 0 {
		parts = append(parts, "(tcp[((tcp[12:1] & 0xf0) >> 2):1] = 5 and tcp[((tcp[12:1] & 0xf0) >> 2) + 1:1] <= 1)")
	}
	return strings.Join(parts, " or ")
}
