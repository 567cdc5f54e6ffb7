package tail

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"time"
)

// Start positions for files without a checkpoint.
const (
	StartBeginning = "beginning"
	StartEnd       = "end"
)

// Config holds the settings every file-tailing source shares. Sources
// inline it in their own config (`yaml:",inline"`).
type Config struct {
	// Paths are glob patterns of record files; re-globbed each poll.
	Paths []string `yaml:"paths"`
	// Listen is an optional "host:port" TCP listener for the same records.
	Listen string `yaml:"listen"`
	// StartAt is where to start in files found at startup that have no
	// checkpoint: beginning (default) or end. Files that appear later are
	// always read from the beginning.
	StartAt string `yaml:"start_at"`
	// PollInterval is how often files are checked for new data.
	PollInterval time.Duration `yaml:"poll_interval"`
	// BatchSize caps the events per batch handed to the pipeline.
	BatchSize int `yaml:"batch_size"`
	// Follow keeps tailing files; false reads every file to EOF once and
	// stops (Done is closed).
	Follow bool `yaml:"follow"`

	// Split finds record boundaries in files and TCP streams; nil means one
	// record per line. Set by the source, not by users.
	Split bufio.SplitFunc `yaml:"-"`
	// MaxRecordBytes caps one record; longer ones are skipped and counted.
	// Set by the source; default 1 MiB.
	MaxRecordBytes int `yaml:"-"`
}

// DefaultMaxRecordBytes is the default MaxRecordBytes.
const DefaultMaxRecordBytes = 1 << 20

// NewDefaultConfig returns the defaults: start at the beginning, poll every
// second, batches of 500 events, follow files.
func NewDefaultConfig() *Config {
	return &Config{
		MaxRecordBytes: DefaultMaxRecordBytes,
		StartAt:        StartBeginning,
		PollInterval:   time.Second,
		BatchSize:      500,
		Follow:         true,
	}
}

// Validate reports every problem, each as "field: problem".
func (c *Config) Validate() error {
	var errs []error
	if len(c.Paths) == 0 && c.Listen == "" {
		errs = append(errs, errors.New("paths: at least one of paths or listen is required"))
	}
	for i, p := range c.Paths {
		if p == "" {
			errs = append(errs, fmt.Errorf("paths[%d]: empty pattern", i))
			continue
		}
		if _, err := filepath.Match(p, ""); err != nil {
			errs = append(errs, fmt.Errorf("paths[%d]: invalid glob %q: %v", i, p, err))
		}
	}
	if c.Listen != "" {
		host, port, err := net.SplitHostPort(c.Listen)
		_ = host
		if err != nil {
			errs = append(errs, fmt.Errorf("listen: %v", err))
		} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			errs = append(errs, fmt.Errorf("listen: invalid port %q", port))
		}
		if !c.Follow {
			errs = append(errs, errors.New("follow: false cannot be combined with listen (a listener never reaches an end)"))
		}
	}
	switch c.StartAt {
	case "", StartBeginning, StartEnd:
	default:
		errs = append(errs, fmt.Errorf("start_at: must be beginning or end, not %q", c.StartAt))
	}
	if c.PollInterval <= 0 {
		errs = append(errs, errors.New("poll_interval: must be > 0"))
	}
	if c.BatchSize <= 0 {
		errs = append(errs, errors.New("batch_size: must be > 0"))
	}
	return errors.Join(errs...)
}
