package samba

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/castellan-itdr/castellan/connector/sources/tail"
)

// Start positions for files without a checkpoint.
const (
	StartBeginning = tail.StartBeginning
	StartEnd       = tail.StartEnd
)

// Config configures the Samba audit source.
type Config struct {
	// Paths are glob patterns of Samba log files holding JSON audit
	// records (e.g. "/var/log/samba/samba.log*"); re-globbed each poll.
	Paths []string `yaml:"paths"`
	// Host is the domain controller's name for host.name. The audit
	// records do not carry it; empty means this machine's host name.
	Host string `yaml:"host"`
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
}

// NewDefaultConfig returns the defaults: start at the beginning, poll every
// second, batches of 500 events, follow files.
func NewDefaultConfig() *Config {
	return &Config{
		StartAt:      StartBeginning,
		PollInterval: time.Second,
		BatchSize:    500,
		Follow:       true,
	}
}

// Validate reports every problem, each as "field: problem".
func (c *Config) Validate() error {
	var errs []error
	if len(c.Paths) == 0 {
		errs = append(errs, errors.New("paths: required"))
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
	if strings.ContainsAny(c.Host, " \t\r\n") {
		errs = append(errs, fmt.Errorf("host: %q contains white space", c.Host))
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
