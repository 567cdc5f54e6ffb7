package dcerpc

import (
	"time"

	"github.com/castellan-itdr/castellan/mappings/network"
)

// Dissector is DCE/RPC over TCP: the endpoint mapper's port 135 and, by
// content (Sniff), any other port a client binds on.
type Dissector struct{}

// New returns the DCE/RPC over TCP dissector.
func New() Dissector { return Dissector{} }

// Name returns "dcerpc".
func (Dissector) Name() string { return "dcerpc" }

// Ports claims TCP 135 (the endpoint mapper). Dynamic RPC ports are
// claimed per conversation by Sniff.
func (Dissector) Ports() []network.Port { return []network.Port{{Transport: network.TCP, Number: 135}} }

// Sniff reports whether a TCP payload on an unclaimed port starts a
// DCE/RPC association (a bind or alter_context PDU).
func (Dissector) Sniff(b []byte) bool { return Sniff(b) }

// NewHandler returns the state of one TCP connection.
func (Dissector) NewHandler(c *network.Conv) network.Handler {
	return &tcpHandler{s: NewStream(c, TransportTCP, "")}
}

type tcpHandler struct{ s *Stream }

func (h *tcpHandler) Data(dir network.Direction, ts time.Time, b []byte) { h.s.Data(dir, ts, b) }
func (h *tcpHandler) Gap(dir network.Direction)                          { h.s.Gap(dir) }
func (h *tcpHandler) Close(time.Time)                                    { h.s.Close() }
