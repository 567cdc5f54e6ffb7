package netsensor

import (
	"fmt"
	"strings"

	"github.com/castellan-itdr/castellan/mappings/network"
)

// DefaultBPF returns a filter for the ports the registry's dissectors
// claim, e.g. "tcp port 88 or udp port 88 or tcp port 389 …".
func DefaultBPF(r *network.Registry) string {
	var parts []string
	for _, p := range r.Ports() {
		parts = append(parts, fmt.Sprintf("%s port %d", p.Transport, p.Number))
	}
	return strings.Join(parts, " or ")
}
