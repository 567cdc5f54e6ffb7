package winjson

import (
	"errors"
	"fmt"

	"github.com/castellan-itdr/castellan/connector/sources/tail"
)

// Start positions for files without a checkpoint.
const (
	StartBeginning = tail.StartBeginning
	StartEnd       = tail.StartEnd
)

// Record formats.
const (
	FormatJSON = "json" // one JSON object per line (Winlogbeat/ECS or NXLog style)
	FormatXML  = "xml"  // <Event> elements as written by wevtutil /f:xml and Windows Event Forwarding
	// FormatEntra reads JSON lines of Entra ID records — Graph signIn,
	// directoryAudit, riskDetection and riskyUser resources or Event Hubs
	// diagnostic records, as exported or forwarded to files (entra.FromAny).
	FormatEntra = "entra"
)

// Config configures the winjson source: forwarded Windows events from
// files and TCP.
type Config struct {
	// Tail holds paths, listen, start_at, poll_interval, batch_size, follow.
	Tail tail.Config `yaml:",inline"`
	// Format is json (default), xml or entra.
	Format string `yaml:"format"`
}

// NewDefaultConfig returns the defaults: JSON lines, start at the
// beginning, poll every second, batches of 500 events, follow files.
func NewDefaultConfig() *Config {
	return &Config{Tail: *tail.NewDefaultConfig(), Format: FormatJSON}
}

// Validate reports every problem, each as "field: problem".
func (c *Config) Validate() error {
	var errs []error
	if err := c.Tail.Validate(); err != nil {
		errs = append(errs, err)
	}
	switch c.Format {
	case "", FormatJSON, FormatXML, FormatEntra:
	default:
		errs = append(errs, fmt.Errorf("format: must be json, xml or entra, not %q", c.Format))
	}
	return errors.Join(errs...)
}
