package netsensor

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/castellan-itdr/castellan/mappings/network/dns"
)

// Config configures the netsensor source: capture files, or a live
// interface.
type Config struct {
	// Paths are pcap/pcapng files, directories (every capture below them)
	// and glob patterns. Each file is read once (Follow false).
	Paths []string `yaml:"paths"`
	// Interface captures live (needs a build with -tags afpacket on Linux).
	Interface string `yaml:"interface"`
	// BPF is a tcpdump-style filter for live capture; default: the ports
	// the dissectors claim.
	BPF string `yaml:"bpf"`
	// Snaplen is the live capture length per packet.
	Snaplen int `yaml:"snaplen"`
	// Follow must be false: files are read once and the source is Done.
	Follow bool `yaml:"follow"`
	// BatchSize caps the events per batch.
	BatchSize int `yaml:"batch_size"`
	// StreamTimeout closes idle conversations (capture time).
	StreamTimeout time.Duration `yaml:"stream_timeout"`
	// MaxBufferedBytes caps reassembly and dissector buffers together.
	MaxBufferedBytes int64 `yaml:"max_buffered_bytes"`
	// DNS selects the DNS queries that become events.
	DNS DNSConfig `yaml:"dns"`
}

// DNSConfig is the DNS part of Config.
type DNSConfig struct {
	// Events is "transfers" (the default: AXFR and IXFR requests and
	// their answers only), "failures" (transfers plus queries answered
	// with an RCODE other than NOERROR) or "all" (every query). Queries
	// left out are still counted (source_dns_queries).
	Events string `yaml:"events"`
}

// dnsEvents returns the DNS event selection ("" is the default,
// transfers).
func (c *Config) dnsEvents() (dns.Events, error) {
	if c.DNS.Events == "" {
		return dns.EventsTransfers, nil
	}
	return dns.ParseEvents(c.DNS.Events)
}

// NewDefaultConfig returns the defaults: batches of 1000 events, a 64 KiB
// snaplen, two-minute stream timeout, 64 MiB of buffers, DNS events for
// zone transfers only.
func NewDefaultConfig() *Config {
	return &Config{BatchSize: 1000, Snaplen: 65536, StreamTimeout: 2 * time.Minute, MaxBufferedBytes: 64 << 20,
		DNS: DNSConfig{Events: dns.EventsTransfers.String()}}
}

// Validate reports every problem, each as "field: problem".
func (c *Config) Validate() error {
	var errs []error
	if len(c.Paths) == 0 && c.Interface == "" {
		errs = append(errs, errors.New("paths: a capture file, directory or glob, or an interface, is required"))
	}
	if len(c.Paths) > 0 && c.Interface != "" {
		errs = append(errs, errors.New("interface: set either paths or interface, not both"))
	}
	for i, p := range c.Paths {
		if p == "" {
			errs = append(errs, fmt.Errorf("paths[%d]: empty path", i))
			continue
		}
		if _, err := filepath.Match(p, ""); err != nil {
			errs = append(errs, fmt.Errorf("paths[%d]: invalid glob %q: %v", i, p, err))
		}
	}
	if c.BPF != "" && c.Interface == "" {
		errs = append(errs, errors.New("bpf: only applies to live capture (interface)"))
	}
	if c.Follow {
		errs = append(errs, errors.New("follow: growing capture files are not supported; use interface for live traffic"))
	}
	if c.Snaplen < 0 || c.Snaplen > MaxPacket {
		errs = append(errs, fmt.Errorf("snaplen: must be between 0 and %d", MaxPacket))
	}
	if c.BatchSize <= 0 {
		errs = append(errs, errors.New("batch_size: must be > 0"))
	}
	if c.StreamTimeout < 0 {
		errs = append(errs, errors.New("stream_timeout: must be >= 0"))
	}
	if c.MaxBufferedBytes < 0 {
		errs = append(errs, errors.New("max_buffered_bytes: must be >= 0"))
	}
	if _, err := c.dnsEvents(); err != nil {
		errs = append(errs, fmt.Errorf("dns.events: %w", err))
	}
	return errors.Join(errs...)
}
